package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openSQLite opens or creates the database file at path, readable by its
// owner only. Writes go through one connection, so writers queue in Go
// instead of spinning on SQLite's lock; reads use a pool and, thanks to
// WAL, never wait for writers.
func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("no database path")
	}
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	name := "file:" + (&url.URL{Path: path}).EscapedPath()
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	// IMMEDIATE takes the write lock at BEGIN: a read-then-write
	// transaction can then never fail half-way on a lock upgrade.
	write, err := sql.Open("sqlite", name+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", name+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	return &DB{write: write, read: read, d: sqliteDialect, where: path}, nil
}

var sqliteDialect = &dialect{
	migrations: []string{schemaFor("{id}", "INTEGER PRIMARY KEY", "{int}", "INTEGER", "{blob}", "BLOB", "{bool}", "INTEGER", "{inline}", "")},
	rowID:      "rowid",
	ilike:      "LIKE", // ASCII letters only, as the roll's names are stored
	in:         func(p string) string { return "IN (SELECT value FROM json_each(" + p + "))" },
	list: func(slice any) any {
		b, _ := json.Marshal(slice) // strings and integers: never fails
		return string(b)
	},
	copyRows: func(t *Tx, table string, cols []string, rows [][]any) error {
		ps := make([]string, len(cols))
		for i := range ps {
			ps[i] = fmt.Sprintf("$%d", i+1)
		}
		st, err := t.tx.PrepareContext(t.ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(ps, ", ")+`)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.ExecContext(t.ctx, r...); err != nil {
				return err
			}
		}
		return nil
	},
	// Another process holding the file's write lock past the busy
	// timeout: nothing was done.
	retryable: func(err error) bool { return sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY },
	// SQLite keeps whatever type a writer puts in a column; CAST never
	// fails.
	as: func(expr, typ string) string { return "CAST(" + expr + " AS " + typ + ")" },
}

func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

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
