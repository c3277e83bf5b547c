package private

import (
	"os"
	"path/filepath"
	"testing"

	"consulvote/internal/testenv"
)

// TestCreate: a new file and an existing one (0644, as a save dialog or
// an earlier run leaves it) are both 0600 and truncated.
func TestCreate(t *testing.T) {
	if !testenv.FileModes {
		t.Skip("no file modes here")
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "old.csv")
	if err := os.WriteFile(old, []byte("NUMIC;e-mail\n12345678;a@example.org\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(old, 0o644) // whatever the umask
	for _, p := range []string{filepath.Join(dir, "new.csv"), old} {
		f, err := Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("x")
		f.Close()
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o600 || st.Size() != 1 {
			t.Errorf("%s: mode %v, %d bytes; want 0600, 1 byte", p, st.Mode().Perm(), st.Size())
		}
	}
	if _, err := Create(filepath.Join(dir, "absent", "x.csv")); err == nil {
		t.Error("created a file in a missing folder")
	}
}
