package testenv

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// fakeT records what Need does to a test.
type fakeT struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Skipf(format string, args ...any) {
	f.skipped = true
	panic(f)
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = true
	panic(f)
}

func need(asked string, vars, cmds []string) (f *fakeT) {
	f = &fakeT{}
	defer func() { recover() }()
	Need(f, asked, vars, cmds)
	return f
}

func TestNeed(t *testing.T) {
	t.Setenv("CONSULVOTE_TESTENV_ASKED", "")
	if f := need("CONSULVOTE_TESTENV_ASKED", nil, []string{"no-such-command-x"}); !f.skipped || f.failed {
		t.Errorf("not asked: skipped %v, failed %v; want a skip", f.skipped, f.failed)
	}
	t.Setenv("CONSULVOTE_TESTENV_ASKED", "1")
	if f := need("CONSULVOTE_TESTENV_ASKED", nil, []string{"no-such-command-x"}); !f.failed {
		t.Error("asked, a command missing: not a failure")
	}
	t.Setenv("CONSULVOTE_TESTENV_VAR", "")
	if f := need("CONSULVOTE_TESTENV_ASKED", []string{"CONSULVOTE_TESTENV_VAR"}, nil); !f.failed {
		t.Error("asked, a variable missing: not a failure")
	}
	t.Setenv("CONSULVOTE_TESTENV_VAR", "x")
	self, err := os.Executable() // a command found on every system
	if err != nil {
		t.Fatal(err)
	}
	if f := need("CONSULVOTE_TESTENV_ASKED", []string{"CONSULVOTE_TESTENV_VAR"}, []string{self}); f.failed || f.skipped {
		t.Error("asked, all there: skipped or failed")
	}
}

// TestMustRun: scripts/must-run, which the keychain and smoke targets run
// their tests through, fails when the tests fail, skip, or do not run.
func TestMustRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("scripts/must-run is a bash script of the Makefile's Linux targets")
	}
	for out, ok := range map[string]bool{
		"=== RUN   TestX\n--- PASS: TestX (0.00s)\nPASS\nok  \tconsulvote/x\t0.1s\n":                                                         true,
		"=== RUN   TestX\n--- SKIP: TestX (0.00s)\nPASS\nok  \tconsulvote/x\t0.1s\n":                                                         false,
		"testing: warning: no tests to run\nPASS\nok  \tconsulvote/x\t0.1s [no tests to run]\n":                                              false,
		"PASS\nok  \tconsulvote/x\t0.1s\n":                                                                                                   false,
		"=== RUN   TestX\n--- PASS: TestX (0.00s)\nok  \tconsulvote/x\t0.1s\nok  \tconsulvote/y\t0.1s [no tests to run]\n":                   false,
		"=== RUN   TestX\n    --- PASS: TestX/sub (0.00s)\n--- PASS: TestX (0.00s)\n    --- SKIP: TestX/b (0.00s)\nok  \tconsulvote/x\t1s\n": false,
	} {
		cmd := exec.Command("../../scripts/must-run", "printf", "%s", out)
		got, err := cmd.CombinedOutput()
		if (err == nil) != ok {
			t.Errorf("must-run on\n%s\n= %v (%s); want ok=%v", out, err, got, ok)
		}
	}
	if err := exec.Command("../../scripts/must-run", "sh", "-c", "echo '--- PASS: TestX (0.00s)'; exit 1").Run(); err == nil {
		t.Error("must-run passed a command that failed")
	} else if !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("must-run: %v, want the command's exit status", err)
	}
}
