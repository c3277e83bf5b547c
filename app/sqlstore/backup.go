package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Backups of a live database: VACUUM INTO writes a consistent snapshot
// (one read transaction) while the server goes on writing, compacted and
// with no -wal to carry. The secret key is not in the copy: it lives
// beside the database and is kept apart (see the README).

// FileInfo is what Inspect finds in a database file.
type FileInfo struct {
	Integrity     string // "ok", or what PRAGMA integrity_check reported
	SchemaVersion int
	Voters        int
	Size          int64 // bytes
}

// ErrReplaceOnWindows: restore cannot replace a database in place there.
var ErrReplaceOnWindows = errors.New("replacing a database in place is not supported on Windows: restore into a new path")

// ErrInUse means a program has the database open: stop it first.
var ErrInUse = errors.New("the database is in use: stop the server (systemctl stop consulvoted) first")

// readOnly opens path for reading only, through its own connection,
// without migrating it.
func readOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Inspect checks the database file at path without changing it: PRAGMA
// integrity_check, the schema's version and the number of voters.
func Inspect(ctx context.Context, path string) (FileInfo, error) {
	db, err := readOnly(path)
	if err != nil {
		return FileInfo{}, fmt.Errorf("inspect %s: %w", path, err)
	}
	defer db.Close()
	var fi FileInfo
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	lines, err := collect(rows, err, scanOne[string])
	if err != nil {
		return FileInfo{}, fmt.Errorf("inspect %s: %w", path, err)
	}
	fi.Integrity = strings.Join(lines, "; ")
	if fi.Integrity != "ok" {
		return fi, nil
	}
	if err := db.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(version), 0) FROM schema_migrations),
		(SELECT COUNT(*) FROM voters)`).Scan(&fi.SchemaVersion, &fi.Voters); err != nil {
		return FileInfo{}, fmt.Errorf("inspect %s: not a portal database: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return FileInfo{}, err
	}
	fi.Size = st.Size()
	return fi, nil
}

// Backup writes a consistent copy of the live database at path to dest,
// mode 0600: checked, synced and renamed into place from a temporary name
// beside it, so that dest is never half-written. An existing dest is an
// error unless overwrite.
func Backup(ctx context.Context, path, dest string, overwrite bool) (FileInfo, error) {
	if _, err := os.Lstat(dest); err == nil && !overwrite {
		return FileInfo{}, fmt.Errorf("backup: %s exists (--force to replace it)", dest)
	}
	tmp, err := tempBeside(dest)
	if err != nil {
		return FileInfo{}, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	db, err := readOnly(path)
	if err != nil {
		return FileInfo{}, fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO writes into an empty file: tempBeside made it 0600.
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	db.Close()
	if err != nil {
		return FileInfo{}, fmt.Errorf("backup of %s: %w", path, err)
	}
	fi, err := Inspect(ctx, tmp)
	if err != nil {
		return FileInfo{}, fmt.Errorf("backup: the copy: %w", err)
	}
	if fi.Integrity != "ok" {
		return fi, fmt.Errorf("backup: the copy fails its integrity check: %s", fi.Integrity)
	}
	if err := syncFile(tmp); err != nil {
		return FileInfo{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return FileInfo{}, fmt.Errorf("backup: %w", err)
	}
	return fi, syncDir(filepath.Dir(dest))
}

// Restore puts the database file from in place at path: copied under a
// temporary name beside path, checked by check (given the copy's path:
// the caller verifies the audit log under the key there), synced, and
// renamed over path; the old database's -wal and -shm go with it. An
// existing path is an error unless overwrite, and always when a program
// has it open (ErrInUse). Run as root, the new file gets the owner of
// path's folder (the service's user, whose StateDirectory it is).
func Restore(ctx context.Context, from, path string, overwrite bool, check func(copy string) error) (FileInfo, error) {
	fi, err := Inspect(ctx, from)
	if err != nil {
		return FileInfo{}, fmt.Errorf("restore: %w", err)
	}
	if fi.Integrity != "ok" {
		return fi, fmt.Errorf("restore: %s fails its integrity check: %s", from, fi.Integrity)
	}
	if fi.SchemaVersion > len(sqliteDialect.migrations) {
		return fi, fmt.Errorf("restore: %s has schema version %d, newer than this program's %d", from, fi.SchemaVersion, len(sqliteDialect.migrations))
	}
	held, err := holdLive(ctx, path, overwrite)
	if err != nil {
		return fi, err
	}
	if held != nil {
		defer held.Close()
	}
	tmp, err := tempBeside(path)
	if err != nil {
		return fi, fmt.Errorf("restore: %w", err)
	}
	defer func() {
		for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
			os.Remove(p)
		}
	}()
	if err := copyInto(tmp, from); err != nil {
		return fi, fmt.Errorf("restore: %w", err)
	}
	if check != nil {
		if err := check(tmp); err != nil {
			return fi, err
		}
	}
	if err := syncFile(tmp); err != nil {
		return fi, fmt.Errorf("restore: %w", err)
	}
	if err := OwnLikeFolder(tmp); err != nil {
		return fi, fmt.Errorf("restore: %w", err)
	}
	// The old database's -wal would be replayed into the new file.
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fi, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fi, fmt.Errorf("restore: %w", err)
	}
	if st, err := os.Stat(path); err == nil {
		fi.Size = st.Size()
	}
	return fi, syncDir(filepath.Dir(path))
}

// holdLive takes the exclusive lock of the live database at path, if
// there is one, and holds it (until the caller closes it) from the check
// to the swap: a server that has it open stops the restore (ErrInUse), one
// that starts meanwhile waits.
func holdLive(ctx context.Context, path string, overwrite bool) (*sql.DB, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if !overwrite {
		return nil, fmt.Errorf("restore: %s exists (--force to replace it)", path)
	}
	held, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(200)&_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		return nil, err
	}
	held.SetMaxOpenConns(1)
	if _, err := held.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		held.Close()
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "locked") {
			return nil, fmt.Errorf("restore: %s: %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("restore: %s: %w", path, err)
	}
	if runtime.GOOS == "windows" {
		// The swap removes and renames over files this lock holds open,
		// which Windows forbids (a sharing violation).
		held.Close()
		return nil, fmt.Errorf("restore: %w", ErrReplaceOnWindows)
	}
	return held, nil
}

// OwnLikeFolder gives path the owner of its folder when run as root:
// restored by root for a service that runs as its own user (systemd's
// DynamicUser and StateDirectory), a file belongs to that user, as the one
// it replaces did. Otherwise it does nothing.
func OwnLikeFolder(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	return chownLike(path, st)
}

// tempBeside creates an empty file, mode 0600, in the folder of path.
func tempBeside(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// copyInto copies the file from into the existing file to.
func copyInto(to, from string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// syncDir makes a rename in dir durable. Windows cannot flush a folder
// (Access denied); NTFS journals the rename itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
