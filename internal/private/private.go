// Package private creates files that may hold personal data (a roll's
// refused lines: NUMIC, e-mail, mobile) readable by their owner only.
package private

import (
	"os"
	"runtime"
)

// Create creates or truncates the file at path, mode 0600. A file that
// already exists, or that a save dialog has just made with the umask's
// mode, is narrowed to 0600 too: the mode of os.OpenFile applies only to
// a file it creates.
func Create(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	// Windows has no modes (Chmod flips the read-only attribute only): the
	// ACL of the user's folders keeps the file private there.
	if runtime.GOOS != "windows" {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}
