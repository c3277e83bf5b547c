package sqlstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// privateFiles makes the database file readable by its owner only before
// SQLite opens it: SQLite gives the -wal and -shm files the mode of the
// database file, so they follow. A file made by an older version with a
// wider mode is narrowed, with its -wal and -shm.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create %s: %w", path, err)
	}
	if runtime.GOOS == "windows" {
		// Modes mean nothing there (os.Chmod flips the read-only flag, and
		// fails while another window has the file open): the ACL of the
		// user's profile folder keeps the files private.
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make %s private: %w", p, err)
			}
		}
	}
	return nil
}
