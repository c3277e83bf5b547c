package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pages are the README and every page of docs/, read from the
// repository's root (this package's parent).
func pages(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range append([]string{"../README.md"}, names...) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	if len(out) < 2 {
		t.Fatalf("found %d pages", len(out))
	}
	return out
}

// eachCited calls check with every match of re in every page; check says
// whether the match counted (a link to the web is not checked). Fewer than
// least counted fails: a pattern that matches nothing proves nothing.
func eachCited(t *testing.T, re *regexp.Regexp, least int, check func(page string, m []string) bool) {
	t.Helper()
	n := 0
	for name, text := range pages(t) {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if check(name, m) {
				n++
			}
		}
	}
	if n < least {
		t.Errorf("only %d matches of %s: is the pattern still right?", n, re)
	}
}

// TestRelativeLinks: every relative link in README.md and docs/*.md names
// a file or folder inside the repository that exists.
func TestRelativeLinks(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	eachCited(t, link, 10, func(name string, m []string) bool {
		target, _, _ := strings.Cut(m[1], "#")
		if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			return false
		}
		path, err := filepath.Abs(filepath.Join(filepath.Dir(name), target))
		if err != nil {
			t.Fatal(err)
		}
		if rel, err := filepath.Rel(root, path); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s: link %q points outside the repository", name, m[1])
		} else if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: link %q: %v", name, m[1], err)
		}
		return true
	})
}

// TestCitedTestsExist: a test or benchmark the pages cite as evidence
// exists under that name in some _test.go file.
func TestCitedTestsExist(t *testing.T) {
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (?:\([^)]*\) )?((?:Test|Benchmark)[A-Z0-9]\w*)\(`)
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := regexp.MustCompile("`((?:Test|Benchmark)[A-Z0-9]\\w*)")
	eachCited(t, cited, 5, func(name string, m []string) bool {
		if !defined[m[1]] {
			t.Errorf("%s cites %s, which no _test.go defines", name, m[1])
		}
		return true
	})
}

// TestMakeTargetsExist: every `make TARGET` the pages give is a target of
// the Makefile (but for user-install, the Linux archive's own).
func TestMakeTargetsExist(t *testing.T) {
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{"user-install": true}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(b), -1) {
		targets[m[1]] = true
	}
	given := regexp.MustCompile("`make ([a-z][a-z0-9-]*)")
	eachCited(t, given, 10, func(name string, m []string) bool {
		if !targets[m[1]] {
			t.Errorf("%s gives `make %s`, which the Makefile does not have", name, m[1])
		}
		return true
	})
}

// TestCitedPathsExist: a file or folder of the repository the pages name
// in code (`app/audit`, `deploy/consulvoted.service`) exists; a name with
// a placeholder in capitals (NAME, LANG) is a pattern, not a path.
func TestCitedPathsExist(t *testing.T) {
	cited := regexp.MustCompile("`((?:app|cmd|internal|screens|scripts|deploy|packaging|resources|docs|testdata|\\.github)/[^`\\s]*)`")
	placeholder := regexp.MustCompile(`[A-Z]{3,}`)
	eachCited(t, cited, 10, func(name string, m []string) bool {
		if placeholder.MatchString(m[1]) {
			return false
		}
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("%s names %s: %v", name, m[1], err)
		}
		return true
	})
}

// TestPackageMap: the README's map of the packages ("How it is built")
// names only folders that exist, and every package under app/.
func TestPackageMap(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## How it is built\n")
	if !ok {
		t.Fatal("README.md has no section \"How it is built\"")
	}
	_, rest, _ = strings.Cut(rest, "\n```\n")
	block, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		t.Fatal("How it is built: no map in a code block")
	}
	named := map[string]bool{}
	for _, line := range strings.Split(block, "\n") {
		if line == "" || line[0] == ' ' {
			continue
		}
		path := strings.TrimSuffix(strings.Fields(line)[0], "/")
		named[path] = true
		if _, err := os.Stat(filepath.Join("..", path)); err != nil {
			t.Errorf("the map names %s: %v", path, err)
		}
	}
	dirs, err := os.ReadDir("../app")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() && !named["app/"+d.Name()] {
			t.Errorf("app/%s is not in the README's map of the packages", d.Name())
		}
	}
}
