package rss

import (
	"os"
	"runtime"
	"testing"
)

// TestPeakGrows: the peak covers memory this process touched, and reading
// it by pid or as self gives the same process's figure.
func TestPeakGrows(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux's")
	}
	before, err := Peak(0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, err := Peak(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(buf)
	if after < before+60<<10 {
		t.Errorf("peak %d KiB after touching 64 MiB, was %d KiB", after, before)
	}
	if _, err := Peak(1 << 30); err == nil {
		t.Error("Peak of a process that does not exist: no error")
	}
}
