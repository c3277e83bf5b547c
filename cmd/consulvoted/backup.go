package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"consulvote/app/audit"
	"consulvote/app/backend"
	"consulvote/app/filemac"
	"consulvote/app/keyfile"
	"consulvote/app/service"
	"consulvote/app/sqlstore"
)

// backupConfig is the configuration of `backup`.
type backupConfig struct {
	Database string // the live SQLite database
	To       string // the copy
	KeyFile  string // the database's key, that signs the copy (default: beside it)
	KeyTo    string // where to copy the key too ("": not copied)
	Force    bool   // replace an existing copy
}

func (c backupConfig) Validate() error {
	switch {
	case c.Database == "":
		return &backend.ConfigError{Setting: "db", Why: "required: the database to back up"}
	case backend.IsURL(c.Database):
		return &backend.ConfigError{Setting: "db", Why: "a PostgreSQL database is backed up with pg_dump or by its server (see the README), not by this command"}
	case c.To == "":
		return &backend.ConfigError{Setting: "to", Why: "required: the file to write the copy to"}
	case samePath(c.To, c.Database):
		return &backend.ConfigError{Setting: "to", Why: "is the database itself"}
	}
	return nil
}

func backupFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c backupConfig
	fs.StringVar(&c.Database, "db", "", "the SQLite database, live or not")
	fs.StringVar(&c.To, "to", "", "the file to write the copy to (its MAC goes beside it, in FILE.mac)")
	fs.StringVar(&c.KeyFile, "key-file", "", "the database's secret key file, that signs the copy (default: beside the database)")
	fs.StringVar(&c.KeyTo, "key-to", "", "copy the secret key there too (default: not copied; keep it apart from the backups, see the README)")
	fs.BoolVar(&c.Force, "force", false, "replace --to (and --key-to) if it exists")
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 0 {
			return &usageError{fmt.Sprintf("unexpected %q", args[0])}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		if _, err := os.Stat(c.Database); err != nil {
			return &backend.ConfigError{Setting: "db", Why: err.Error()}
		}
		keyFile := cmp.Or(c.KeyFile, c.Database+".key")
		secret, err := readKey(keyFile)
		if err != nil {
			return &backend.ConfigError{Setting: "key-file", Why: err.Error() + " (the key signs the backup)"}
		}
		start := time.Now()
		fi, err := sqlstore.Backup(ctx, c.Database, c.To, c.Force)
		if err != nil {
			return err
		}
		// Restore refuses a backup edited, cut short or of another key.
		if err := filemac.Sign(c.To, secret); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		fmt.Fprintf(io.out, "backup %s: %d voters, schema version %d, %.1f MiB, integrity ok, signed in %s, in %.1f s\n",
			c.To, fi.Voters, fi.SchemaVersion, float64(fi.Size)/(1<<20), c.To+filemac.Ext, time.Since(start).Seconds())
		if c.KeyTo != "" {
			if err := copyKey(keyFile, c.KeyTo, c.Force); err != nil {
				return err
			}
			fmt.Fprintf(io.out, "key copied to %s (mode 0600): keep it apart from the backups\n", c.KeyTo)
		}
		return nil
	}
}

// restoreConfig is the configuration of `restore`.
type restoreConfig struct {
	From     string // the backup
	Database string // where to put it
	KeyFile  string // the database's key (default: beside it)
	KeyFrom  string // install this key as KeyFile ("": KeyFile must exist)
	Force    bool   // replace an existing database
}

func (c restoreConfig) Validate() error {
	switch {
	case c.From == "":
		return &backend.ConfigError{Setting: "from", Why: "required: the backup to restore"}
	case c.Database == "":
		return &backend.ConfigError{Setting: "db", Why: "required: where the database goes"}
	case backend.IsURL(c.Database):
		return &backend.ConfigError{Setting: "db", Why: "a PostgreSQL database is restored with pg_restore (see the README), not by this command"}
	case samePath(c.From, c.Database):
		return &backend.ConfigError{Setting: "from", Why: "is the database itself"}
	}
	return nil
}

func (c restoreConfig) keyFile() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return c.Database + ".key"
}

func restoreFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c restoreConfig
	fs.StringVar(&c.From, "from", "", "the backup file")
	fs.StringVar(&c.Database, "db", "", "the database to restore into (the server stopped)")
	fs.StringVar(&c.KeyFile, "key-file", "", "the database's secret key file (default: beside it)")
	fs.StringVar(&c.KeyFrom, "key-from", "", "install this key file as --key-file (when the key was lost with the database)")
	fs.BoolVar(&c.Force, "force", false, "replace the database at --db (never while a server has it open)")
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 0 {
			return &usageError{fmt.Sprintf("unexpected %q", args[0])}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		if _, err := os.Stat(c.From); err != nil {
			return &backend.ConfigError{Setting: "from", Why: err.Error()}
		}
		key := c.keyFile()
		if c.KeyFrom != "" {
			key = c.KeyFrom
		}
		if _, err := os.Stat(key); err != nil {
			return &backend.ConfigError{Setting: "key-from", Why: fmt.Sprintf("the key %s: %v; give the key saved apart with --key-from", key, err)}
		}
		if c.KeyFrom != "" {
			if err := sameKeyOrAbsent(c.keyFile(), c.KeyFrom, c.Force); err != nil {
				return err
			}
		}
		secret, err := readKey(key)
		if err != nil {
			return &backend.ConfigError{Setting: "key-from", Why: err.Error()}
		}
		// Before anything is written; and the copy again, in case the
		// backup changed meanwhile.
		if err := filemac.Verify(c.From, c.From+filemac.Ext, secret); err != nil {
			return refusedBackup(c.From, key, err)
		}
		start := time.Now()
		var rows int
		fi, err := sqlstore.Restore(ctx, c.From, c.Database, c.Force, func(copy string) error {
			if err := filemac.Verify(copy, c.From+filemac.Ext, secret); err != nil {
				return refusedBackup(c.From, key, err)
			}
			var err error
			rows, err = verifyCopy(ctx, copy, key)
			return err
		})
		if err != nil {
			return err
		}
		if c.KeyFrom != "" {
			if err := copyKey(c.KeyFrom, c.keyFile(), true); err != nil {
				return err
			}
		}
		fmt.Fprintf(io.out, "restored %s into %s: %d voters, audit log intact (%d rows) under the key, in %.1f s\n",
			c.From, c.Database, fi.Voters, rows, time.Since(start).Seconds())
		return nil
	}
}

// refusedBackup says why restore refused the backup at from.
func refusedBackup(from, key string, err error) error {
	return fmt.Errorf("restore refused, nothing changed: the backup %s: %w (checked under the key %s)", from, err, key)
}

// readKey reads a key file.
func readKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if len(key) != keyfile.Size {
		return nil, fmt.Errorf("key %s: %d bytes, want %d", path, len(key), keyfile.Size)
	}
	return key, nil
}

// verifyCopy opens the restored copy with key, as the server will, and
// verifies its audit log and signed checkpoints: a key that is not the
// database's fails here, before anything is replaced.
func verifyCopy(ctx context.Context, copy, key string) (int, error) {
	b, err := backend.Open(ctx, backend.Config{Database: copy, KeyFile: key})
	if err != nil {
		return 0, fmt.Errorf("restore: open the copy: %w", err)
	}
	defer b.Close()
	problems, rows, err := b.Service.Operator.VerifyAuditLog(ctx)
	if err != nil {
		return 0, fmt.Errorf("restore: verify the audit log: %w", err)
	}
	if len(problems) > 0 {
		return rows, fmt.Errorf("restore refused: the audit log of the backup does not verify under the key %s "+
			"(%d problems, the first: %s): wrong key, or a tampered backup", key, len(problems), problems[0])
	}
	cps := 0
	if err := b.Store.View(ctx, func(tx service.Tx) error {
		return tx.AuditCheckpoints(func(audit.Checkpoint) error { cps++; return nil })
	}); err != nil {
		return rows, fmt.Errorf("restore: %w", err)
	}
	if cps == 0 && rows > 0 {
		// Only a checkpoint, signed under the key, tells the key is the
		// database's; a server signs one every minute the log moves.
		return rows, fmt.Errorf("restore refused: the backup has no signed audit checkpoint, so the key %s cannot be checked "+
			"against it (run `consulvoted audit verify` on a copy to see; a server signs one every minute)", key)
	}
	return rows, nil
}

// copyKey copies a key file, mode 0600; an existing destination is kept
// if it holds the same key, replaced only with overwrite.
func copyKey(from, to string, overwrite bool) error {
	key, err := readKey(from)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(to); err == nil && bytes.Equal(old, key) {
		return nil
	} else if err == nil && !overwrite {
		return fmt.Errorf("key: %s exists and holds another key (--force to replace it)", to)
	}
	tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
	os.Remove(tmp)
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if err := sqlstore.OwnLikeFolder(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("key: %w", err)
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("key: %w", err)
	}
	return nil
}

// sameKeyOrAbsent refuses to replace a database's key by another one
// unless overwrite.
func sameKeyOrAbsent(path, with string, overwrite bool) error {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || overwrite {
		return nil
	}
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	new, err := os.ReadFile(with)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if !bytes.Equal(old, new) {
		return &backend.ConfigError{Setting: "key-from", Why: fmt.Sprintf("%s holds another key than %s (--force to replace it)", path, with)}
	}
	return nil
}

// samePath reports whether a and b name the same file, as far as can be
// told without it existing.
func samePath(a, b string) bool {
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
