//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"consulvote/app/backend"
)

// TestRestoreAsRootGivesTheFolderOwner: root restoring into the service's
// StateDirectory gives the database and its key the folder's owner, the
// service's user, as docs/operations.md says.
func TestRestoreAsRootGivesTheFolderOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	b, err := backend.Open(context.Background(), backend.Config{Database: src, Create: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	b.Close() // signs a checkpoint over the demo roll's rows
	backup := filepath.Join(dir, "b.db")
	if code, out, errs := runCmd("", "backup", "--db", src, "--to", backup); code != 0 {
		t.Fatalf("backup: %d %s%s", code, out, errs)
	}
	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o700)
	const uid, gid = 64123, 64124
	if err := os.Chown(state, uid, gid); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(state, "portal.db")
	if code, out, errs := runCmd("", "restore", "--from", backup, "--db", db, "--key-from", src+".key"); code != 0 {
		t.Fatalf("restore: %d %s%s", code, out, errs)
	}
	for _, p := range []string{db, db + ".key"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if s := st.Sys().(*syscall.Stat_t); s.Uid != uid || s.Gid != gid {
			t.Errorf("%s belongs to %d:%d, want the folder's %d:%d", p, s.Uid, s.Gid, uid, gid)
		}
	}
}
