package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/backend"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/sqlstore"
	"consulvote/internal/testenv"
)

// rollLines writes a roll of n voters numbered from first.
func rollLines(first, n int) string {
	var b strings.Builder
	b.WriteString("NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "%08d;NOM;Prénom;votant%d@example.org;+3361%07d;Allemagne\n", 60_000_000+i, i, i)
	}
	return b.String()
}

// TestBackupDuringWritesRestores: backups taken while a roll import
// writes 5,000 voters per transaction are each a consistent snapshot
// (integrity_check ok, a whole number of batches); the last one restores
// into a new place with the key kept apart, and `audit verify` passes on
// it. Restore refuses to overwrite without --force, to replace a database
// a server has open, and a key that is not the database's.
func TestBackupDuringWritesRestores(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := filepath.Join(dir, "live", "portal.db")
	os.MkdirAll(filepath.Dir(live), 0o700)
	ctx := context.Background()
	// Audit checkpoints signed under the key as a server signs them, more
	// often.
	b, err := backend.Open(ctx, backend.Config{Database: live, Create: true, CheckpointEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	b.Start()
	const base, batch = 2_000, 5_000
	if _, err := b.Service.Operator.ImportRoll(ctx, "test", strings.NewReader(rollLines(0, base)), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // a checkpoint over the first rows

	var importing atomic.Bool
	importing.Store(true)
	imported := make(chan error, 1)
	go func() {
		_, err := b.Service.Operator.ImportRoll(ctx, "test", strings.NewReader(rollLines(base, 12*batch)), nil)
		importing.Store(false)
		imported <- err
	}()
	var backups []string
	midway := 0
	for i := 0; importing.Load() || i < 1; i++ {
		to := filepath.Join(dir, "backups", fmt.Sprintf("portal-%02d.db", i))
		os.MkdirAll(filepath.Dir(to), 0o700)
		during := importing.Load()
		code, out, errs := runCmd("", "backup", "--db", live, "--to", to)
		if code != 0 {
			t.Fatalf("backup %d: exit %d: %s%s", i, code, out, errs)
		}
		fi, err := sqlstore.Inspect(ctx, to)
		if err != nil || fi.Integrity != "ok" {
			t.Fatalf("backup %d: %+v %v", i, fi, err)
		}
		if (fi.Voters-base)%batch != 0 {
			t.Errorf("backup %d holds %d voters: part of a transaction, not a snapshot", i, fi.Voters)
		}
		if during && importing.Load() && fi.Voters > base && fi.Voters < base+12*batch {
			midway++
		}
		if st, _ := os.Stat(to); testenv.FileModes && st.Mode().Perm() != 0o600 {
			t.Errorf("backup %d has mode %v, want 0600", i, st.Mode().Perm())
		}
		backups = append(backups, to)
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	if midway == 0 {
		t.Fatalf("none of %d backups was taken in the middle of the import", len(backups))
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "backups")); len(entries) != 2*len(backups) {
		t.Errorf("%d files beside the backups, want %d (each with its .mac): a temporary file was left", len(entries), 2*len(backups))
	}
	last := backups[len(backups)-1]
	want, _ := sqlstore.Inspect(ctx, last)

	// The key, saved apart.
	key := filepath.Join(dir, "vault", "portal.key")
	os.MkdirAll(filepath.Dir(key), 0o700)
	if code, out, errs := runCmd("", "backup", "--db", live, "--to", last, "--force", "--key-to", key); code != 0 {
		t.Fatalf("backup --key-to: %d %s%s", code, out, errs)
	}
	want, _ = sqlstore.Inspect(ctx, last)
	if st, err := os.Stat(key); err != nil || testenv.FileModes && st.Mode().Perm() != 0o600 {
		t.Fatalf("key copy: %v %v", st, err)
	}
	if code, _, errs := runCmd("", "backup", "--db", live, "--to", last); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("backup over an existing file without --force: exit %d %s", code, errs)
	}

	// Restore into a new place: the machine was lost, the key comes from
	// the vault.
	restored := filepath.Join(dir, "new", "portal.db")
	os.MkdirAll(filepath.Dir(restored), 0o700)
	code, out, errs := runCmd("", "restore", "--from", last, "--db", restored, "--key-from", key)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d voters", want.Voters)) {
		t.Fatalf("restore: exit %d: %s%s", code, out, errs)
	}
	got, err := sqlstore.Inspect(ctx, restored)
	if err != nil || got.Integrity != "ok" || got.Voters != want.Voters || want.Voters < base {
		t.Fatalf("restored: %+v %v; want integrity ok and %d voters", got, err, want.Voters)
	}
	if code, out, errs := runCmd("", "audit", "verify", "--db", restored); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify on the restored copy: exit %d: %s%s", code, out, errs)
	}
	for _, p := range []string{restored, restored + ".key"} {
		if st, err := os.Stat(p); err != nil || testenv.FileModes && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", p, st, err)
		}
	}

	// Over an existing database: only with --force, never while a server
	// has it open, never with another key.
	if code, _, errs := runCmd("", "restore", "--from", backups[0], "--db", restored); code == 0 || !strings.Contains(errs, "--force") {
		t.Errorf("restore over a database without --force: exit %d %s", code, errs)
	}
	if code, _, errs := runCmd("", "restore", "--from", backups[0], "--db", live, "--force"); code == 0 || !strings.Contains(errs, "in use") {
		t.Errorf("restore over the database a server has open: exit %d %s", code, errs)
	}
	other := filepath.Join(dir, "other.key")
	os.WriteFile(other, []byte(strings.Repeat("x", 32)), 0o600)
	if code, _, errs := runCmd("", "restore", "--from", backups[0], "--db", filepath.Join(dir, "new", "x.db"), "--key-from", other); code == 0 || !strings.Contains(errs, "signed under another key") {
		t.Errorf("restore with another key: exit %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "new", "x.db")); err == nil {
		t.Errorf("a refused restore left a database behind")
	}
	if after, _ := sqlstore.Inspect(ctx, restored); after.Voters != want.Voters {
		t.Errorf("refused restores changed the restored database: %d voters, want %d", after.Voters, want.Voters)
	}
	// With --force and the server stopped: the first backup replaces it.
	code, out, errs = runCmd("", "restore", "--from", backups[0], "--db", restored, "--force")
	if runtime.GOOS == "windows" {
		if code == 0 || !strings.Contains(errs, sqlstore.ErrReplaceOnWindows.Error()) {
			t.Errorf("restore --force on Windows: exit %d %s%s; want it refused, saying why", code, out, errs)
		}
		return
	}
	if code != 0 {
		t.Fatalf("restore --force: exit %d %s%s", code, out, errs)
	}
	first, _ := sqlstore.Inspect(ctx, backups[0])
	if got, _ := sqlstore.Inspect(ctx, restored); got.Voters != first.Voters {
		t.Errorf("after restore --force: %d voters, want the first backup's %d", got.Voters, first.Voters)
	}
	if code, out, _ := runCmd("", "audit", "verify", "--db", restored); code != 0 {
		t.Errorf("audit verify after restore --force: exit %d %s", code, out)
	}
}

// TestRestoreRefusesEditedBackup: `backup` signs the copy; `restore`
// refuses, before writing anything and saying which, a backup whose data
// was edited (an agent raised to admin, a password hash swapped, a
// voter's e-mail, the locks lifted), cut short, without its MAC, signed
// under another key or checked under another key. Only the audit log was
// checked before: these edits restored with exit 0.
func TestRestoreRefusesEditedBackup(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	src := filepath.Join(dir, "src.db")
	b := newDB(t, src, true)
	if _, err := b.Service.Operator.AddAgent(ctx, "bob", portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	marie, paul := service.DemoRoll[0], service.DemoRoll[1]
	for range 8 { // locks marie, and throttles guesses at bob's password
		b.Service.Portal.Login(ctx, marie.Identifier, "wrong")
		b.Service.Office.AgentLogin(ctx, "bob", "wrong", "")
	}
	b.Start()
	b.Close() // signs a checkpoint over the rows
	backup := filepath.Join(dir, "backup.db")
	if code, out, errs := runCmd("", "backup", "--db", src, "--to", backup); code != 0 || !strings.Contains(out, "signed in "+backup+".mac") {
		t.Fatalf("backup: %d %s%s", code, out, errs)
	}
	restore := func(from string, args ...string) (int, string, string) {
		to := filepath.Join(t.TempDir(), "portal.db")
		code, out, errs := runCmd("", append([]string{"restore", "--from", from, "--db", to, "--key-from", src + ".key"}, args...)...)
		if entries, _ := os.ReadDir(filepath.Dir(to)); code != 0 && len(entries) != 0 {
			t.Errorf("a refused restore of %s left %d files behind", from, len(entries))
		}
		return code, out, errs
	}
	if code, out, errs := restore(backup); code != 0 {
		t.Fatalf("restore of the backup as made: %d %s%s", code, out, errs)
	}
	// copyBackup copies the backup and its MAC under name.
	copyBackup := func(name string) string {
		p := filepath.Join(dir, name)
		for _, ext := range []string{"", ".mac"} {
			data, err := os.ReadFile(backup + ext)
			if err != nil {
				t.Fatal(err) // the backup or its MAC is missing
			}
			os.WriteFile(p+ext, data, 0o600)
		}
		return p
	}
	for _, edit := range []struct{ name, sql string }{
		{"agent raised to admin", `UPDATE agents SET role = 'admin' WHERE name = 'bob'`},
		{"password hash swapped", `UPDATE voters SET password_hash = (SELECT password_hash FROM voters WHERE numic = '` + paul.NUMIC + `') WHERE numic = '` + marie.NUMIC + `'`},
		{"voter's e-mail", `UPDATE voters SET email = 'attacker@example.org' WHERE numic = '` + paul.NUMIC + `'`},
		{"voter's lock lifted", `UPDATE voters SET locked_until = NULL WHERE locked_until IS NOT NULL`},
		{"throttles deleted", `DELETE FROM throttles`},
	} {
		p := copyBackup(edit.name + ".db")
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.Exec(edit.sql)
		db.Close()
		if n, _ := res.RowsAffected(); err != nil || n == 0 {
			t.Fatalf("%s: %v, %d rows: the edit changes nothing", edit.name, err, n)
		}
		if code, _, errs := restore(p); code == 0 || !strings.Contains(errs, "restore refused, nothing changed") || !strings.Contains(errs, "its content was edited after it was signed") {
			t.Errorf("%s: restore exit %d: %s", edit.name, code, errs)
		}
	}
	cut := copyBackup("cut.db")
	st, _ := os.Stat(cut)
	os.Truncate(cut, st.Size()-4096)
	if code, _, errs := restore(cut); code == 0 || !strings.Contains(errs, "truncated") {
		t.Errorf("truncated: restore exit %d: %s", code, errs)
	}
	bare := copyBackup("bare.db")
	os.Remove(bare + ".mac")
	if code, _, errs := restore(bare); code == 0 || !strings.Contains(errs, "no MAC file beside it") {
		t.Errorf("without its MAC: restore exit %d: %s", code, errs)
	}
	// Another server's backup, signed under its key.
	other := filepath.Join(dir, "other.db")
	ob := newDB(t, other, true)
	ob.Start()
	ob.Close()
	foreign := filepath.Join(dir, "foreign.db")
	if code, out, errs := runCmd("", "backup", "--db", other, "--to", foreign); code != 0 {
		t.Fatalf("backup: %d %s%s", code, out, errs)
	}
	if code, _, errs := restore(foreign); code == 0 || !strings.Contains(errs, "signed under another key") {
		t.Errorf("another server's backup: restore exit %d: %s", code, errs)
	}
	to := filepath.Join(t.TempDir(), "portal.db")
	if code, _, errs := runCmd("", "restore", "--from", backup, "--db", to, "--key-from", other+".key"); code == 0 || !strings.Contains(errs, "signed under another key") {
		t.Errorf("another key: restore exit %d: %s", code, errs)
	}
}
