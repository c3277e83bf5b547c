package postfixtest

import (
	"os/exec"
	"syscall"
)

// endWithParent has the master stopped when the test binary dies,
// however it dies.
func endWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
