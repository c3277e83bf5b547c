// Package testenv decides what a test of a real part (the Secret Service,
// an X display) does when the part is missing: it skips when nobody asked
// for the part, and fails once the Makefile target that sets the part up
// asked for it — such a target must never pass empty.
package testenv

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// FileModes says whether files have Unix modes here. Windows has none
// (os.Stat reports 0666 for any writable file; the ACL of the user's
// folders keeps files private): tests check 0600 and 0700 elsewhere only.
const FileModes = runtime.GOOS != "windows"

// Need skips t unless the variable asked is "1" (the Makefile target that
// sets the part up sets it). Once it is, each variable of vars must be set
// and each command of cmds found, or t fails naming what is missing.
func Need(t testing.TB, asked string, vars, cmds []string) {
	t.Helper()
	if os.Getenv(asked) != "1" {
		t.Skipf("needs the environment its make target sets up (%s=1)", asked)
	}
	for _, v := range vars {
		if os.Getenv(v) == "" {
			t.Fatalf("%s=1 but %s is not set: the environment is incomplete", asked, v)
		}
	}
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s=1 but the command %s is missing: %v", asked, c, err)
		}
	}
}
