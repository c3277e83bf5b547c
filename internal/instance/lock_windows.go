package instance

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

var errLocked = errors.New("locked by another process")

// lockFile locks the first byte of f for this handle without waiting; the
// lock goes when the handle is closed or the process ends.
func lockFile(f *os.File) error {
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY,
		0, 1, 0, &windows.Overlapped{})
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}

// allowForeground lets the running app bring its window to the front:
// Windows gives that right to the process the user just started (this
// one), not to a process in the background, unless passed on.
func allowForeground() {
	windows.NewLazySystemDLL("user32.dll").NewProc("AllowSetForegroundWindow").Call(asfwAny)
}

// asfwAny is ASFW_ANY, (DWORD)-1: any process may set the foreground window.
const asfwAny = 0xFFFFFFFF
