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

// TestRelativeLinks: every relative link in README.md and docs/*.md names
// a file or folder inside the repository that exists.
func TestRelativeLinks(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	n := 0
	for name, text := range pages(t) {
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			path, err := filepath.Abs(filepath.Join(filepath.Dir(name), target))
			if err != nil {
				t.Fatal(err)
			}
			if rel, err := filepath.Rel(root, path); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s: link %q points outside the repository", name, m[1])
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: %v", name, m[1], err)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d relative links: is the pattern still right?", n)
	}
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
	n := 0
	for name, text := range pages(t) {
		for _, m := range cited.FindAllStringSubmatch(text, -1) {
			n++
			if !defined[m[1]] {
				t.Errorf("%s cites %s, which no _test.go defines", name, m[1])
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d tests cited: is the pattern still right?", n)
	}
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
	n := 0
	for name, text := range pages(t) {
		for _, m := range given.FindAllStringSubmatch(text, -1) {
			n++
			if !targets[m[1]] {
				t.Errorf("%s gives `make %s`, which the Makefile does not have", name, m[1])
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d make commands: is the pattern still right?", n)
	}
}
