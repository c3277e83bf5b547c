// Package store keeps the portal's data in a SQLite file
// (modernc.org/sqlite, pure Go): the electoral roll, renewal links, security
// codes, the outbox, the audit log. It implements service.Store.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"

	"consulvote/app/service"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is an open database. Writes go through one connection, so writers
// queue in Go instead of spinning on SQLite's lock; reads use a pool and,
// thanks to WAL, never wait for writers.
type DB struct {
	write *sql.DB
	read  *sql.DB
}

var _ service.Store = (*DB)(nil)

// Open opens or creates the database at path and brings its schema up to
// date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: no database path")
	}
	if err := privateFiles(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	name := "file:" + (&url.URL{Path: path}).EscapedPath()
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

	// IMMEDIATE takes the write lock at BEGIN: a read-then-write
	// transaction can then never fail half-way on a lock upgrade.
	write, err := sql.Open("sqlite", name+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", name+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))

	db := &DB{write: write, read: read}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// LatestSchema returns how many migrations this program knows: the
// version SchemaVersion reads once Open has migrated.
func (db *DB) LatestSchema() int { return len(migrations) }

// SchemaVersion returns how many migrations the database has applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for i, m := range migrations {
		version := i + 1
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&done); err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, datetime('now'))`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", version, err)
		}
	}
	var newer int
	if err := db.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version > ?`, len(migrations)).Scan(&newer); err != nil {
		return err
	}
	if newer > 0 {
		return fmt.Errorf("database schema is newer than this program (version > %d)", len(migrations))
	}
	return nil
}

func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Update implements service.Store.
func (db *DB) Update(ctx context.Context, fn func(service.Tx) error) error {
	return db.update(ctx, func(t *Tx) error { return fn(t) })
}

// View implements service.Store.
func (db *DB) View(ctx context.Context, fn func(service.Tx) error) error {
	return db.view(ctx, func(t *Tx) error { return fn(t) })
}

func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return fn(&Tx{ctx: ctx, tx: tx}) })
}

func (db *DB) view(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(&Tx{ctx: ctx, tx: tx})
}
