//go:build unix

package loadtest

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far, user and system:
// unlike the wall clock, it does not grow when other programs take the
// machine's cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
