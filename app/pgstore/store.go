// Package pgstore keeps the portal's data in PostgreSQL (github.com/jackc/pgx/v5),
// for the central service: several `serve` instances on one database. It
// implements the same roles as the SQLite store (service.Tx, outbox.Queue)
// and passes the same conformance suite (app/storetest).
//
// Every rule that must hold across instances is decided by the database,
// never by one process's memory:
//   - single use (links, security codes, campaigns) and counters are
//     conditional updates, deletes and inserts, ordered by row locks;
//   - a write transaction that looks a voter up locks the voter's row
//     (SELECT … FOR UPDATE), so that the rules that read before they write
//     (the not-both rule, the cool-downs) see one order per voter;
//   - the per-NUMIC limits lock their key (a transaction advisory lock)
//     before they count: a NUMIC that is not on the roll has no row;
//   - the audit log is a set of chains, each written by one service at a
//     time (service/chains.go): appending takes no lock, and a unique
//     index on (chain, seq) refuses a fork; only the checkpoints, once a
//     minute per instance, queue on a transaction advisory lock;
//   - the outbox worker claims messages with FOR UPDATE SKIP LOCKED.
//
// Write transactions run at READ COMMITTED, where a statement that waited
// for a lock sees what the other transaction committed; the rare deadlock
// or serialization failure is retried whole. Read transactions are
// REPEATABLE READ, READ ONLY: one snapshot, as SQLite's readers have.
package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"consulvote/app/service"
)

// DB is an open PostgreSQL database: a pool of connections.
type DB struct {
	pool *pgxpool.Pool
}

var _ service.Store = (*DB)(nil)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user:pass@host:port/db?…)
// and brings its schema up to date. The pool holds up to 4 connections
// per core unless the URL says otherwise (pool_max_conns=N).
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: database URL (postgres://user:password@host:port/database): %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.NumCPU()))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "consulvote"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", where(cfg), err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %s: %w", where(cfg), err)
	}
	return db, nil
}

// where names the database for errors, without the password.
func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// LatestSchema returns how many migrations this program knows: the
// version SchemaVersion reads once Open has migrated.
func (db *DB) LatestSchema() int { return len(migrations) }

// SchemaVersion returns how many migrations the database has applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// ErrOtherKey is CheckKey's refusal: the database was first opened with
// another key.
var ErrOtherKey = errors.New("this key is not the one the database was first opened with; " +
	"every instance must use the same key file")

// CheckKey records the key's fingerprint on the database's first start
// and, on every later one, refuses a key whose fingerprint differs. Of
// instances started together with different keys, one records its own
// and the others are refused.
func (db *DB) CheckKey(ctx context.Context, fingerprint []byte) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ('key_fingerprint', $1)
		ON CONFLICT (name) DO NOTHING`, fingerprint); err != nil {
		return fmt.Errorf("key fingerprint: %w", err)
	}
	var stored []byte
	if err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'key_fingerprint'`).Scan(&stored); err != nil {
		return fmt.Errorf("key fingerprint: %w", err)
	}
	if !bytes.Equal(stored, fingerprint) {
		return ErrOtherKey
	}
	return nil
}

// Advisory lock keys (pg_advisory_xact_lock(class, key)): the class keeps
// the uses apart.
const (
	lockMigrations = 1 // class: migrations; key 0
	lockAudit      = 2 // class: the audit checkpoints' sequence; key 0
	lockRate       = 3 // class: per-NUMIC limits; key from the limit's key
	lockAddress    = 4 // class: the desk's moves onto an e-mail address; key from its keyed hash
)

// migrate applies the missing migrations in one transaction. Instances
// that start together queue on an advisory lock: each migration is
// applied once.
func (db *DB) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockMigrations); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		var done int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&done); err != nil {
			return err
		}
		if done > len(migrations) {
			return fmt.Errorf("database schema is newer than this program (version %d > %d)", done, len(migrations))
		}
		for i := done; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// Update implements service.Store: fn runs in a READ COMMITTED
// transaction, run again whole if PostgreSQL chose it as the victim of a
// deadlock or a serialization failure. fn must not act outside the
// transaction (the service's never do).
func (db *DB) Update(ctx context.Context, fn func(service.Tx) error) error {
	return db.update(ctx, func(t *Tx) error { return fn(t) })
}

// View implements service.Store: one REPEATABLE READ, READ ONLY snapshot.
func (db *DB) View(ctx context.Context, fn func(service.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(&Tx{ctx: ctx, tx: tx}) })
}

// maxTries bounds the runs of one Update that PostgreSQL keeps aborting.
const maxTries = 10

func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	for try := 1; ; try++ {
		err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted},
			func(tx pgx.Tx) error { return fn(&Tx{ctx: ctx, tx: tx, write: true}) })
		if !retryable(err) || try == maxTries || ctx.Err() != nil {
			return err
		}
		// A short random pause, growing: the transactions that collided
		// should not collide again.
		d := time.Duration(rand.Int64N(int64(try) * int64(2*time.Millisecond)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// retryable reports a deadlock or a serialization failure: the
// transaction did nothing and may run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
