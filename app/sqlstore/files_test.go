//go:build unix

package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"consulvote/app/service"
)

// TestFilesPrivate: the database and its -wal and -shm are readable by the
// owner only, even under a permissive umask, and a database left readable
// by everyone by an older version is narrowed at open. Unix only: modes
// mean nothing on Windows (privateFiles leaves them alone there).
func TestFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	check := func(path string) {
		t.Helper()
		db := open(t, path)
		// A write makes the -wal and -shm exist.
		if err := db.Update(context.Background(), func(tx service.Tx) error {
			_, err := tx.SpendSecurityCode([]byte("x"), time.Now().Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
			}
		}
	}
	dir := t.TempDir()
	check(filepath.Join(dir, "new.db"))

	legacy := filepath.Join(dir, "legacy.db")
	for _, p := range []string{legacy, legacy + "-wal", legacy + "-shm"} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check(legacy)
}
