package keyfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"consulvote/internal/testenv"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "portal.key")
	k1, err := LoadOrCreate(path)
	if err != nil || len(k1) != Size {
		t.Fatalf("create: %d bytes, %v", len(k1), err)
	}
	if st, _ := os.Stat(path); testenv.FileModes && st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreate(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload gave another key (%v)", err)
	}
	if bytes.Equal(k1, make([]byte, Size)) {
		t.Fatal("key is all zeros")
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadOrCreate(path); err == nil {
		t.Fatal("a 5-byte key file was accepted")
	}
	if b, _ := os.ReadFile(path); string(b) != "short" {
		t.Fatal("a bad key file was overwritten")
	}
}

// TestFolderAndWideKeyPrivate: the folder made for the key is 0700, and a
// key file readable by everyone is narrowed to 0600 when loaded.
func TestFolderAndWideKeyPrivate(t *testing.T) {
	if !testenv.FileModes {
		t.Skip("no Unix file modes on Windows")
	}
	dir := filepath.Join(t.TempDir(), "made")
	path := filepath.Join(dir, "portal.key")
	if _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", st.Mode().Perm())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v after load, want 0600", st.Mode().Perm())
	}
}
