// Package rss reads a process's peak resident set size, the figure the
// benchmarks and load tools report next to their rates.
package rss

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Peak is the high-water resident size (VmHWM) of process pid, in KiB;
// pid 0 is this process. It fails where /proc is not Linux's.
func Peak(pid int) (int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	status, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no VmHWM line", path)
}

// MiB is Peak in MiB, or 0 when it cannot be read: for reports, where a
// missing figure must not stop the run.
func MiB(pid int) float64 {
	kib, err := Peak(pid)
	if err != nil {
		return 0
	}
	return float64(kib) / 1024
}
