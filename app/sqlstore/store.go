// Package sqlstore keeps the portal's data in SQL: a SQLite file for one
// process, or PostgreSQL for several `serve` instances on one database
// (docs/operations.md). It implements service.Store and outbox.Queue.
//
// Every rule that must hold across instances is decided by the database,
// never by one process's memory: single use and counters are conditional
// statements ordered by row locks; a write transaction's voter lookups
// lock the row, so that the rules that read before they write (not both,
// the cool-downs) see one order per voter; the rate limits lock their
// key's row (an upsert: a first count has a row to lock), the desk's
// moves onto an address its key (an advisory lock); outbox claims skip
// locked rows. SQLite's one writer takes the write lock at BEGIN
// (IMMEDIATE), so it holds them all. PostgreSQL writes at READ COMMITTED,
// where a statement that waited for a lock sees what the other committed;
// reads are REPEATABLE READ, READ ONLY: one snapshot, as on SQLite.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"consulvote/app/service"
)

// DB is an open database.
type DB struct {
	write *sql.DB // SQLite: one connection; PostgreSQL: the pool
	read  *sql.DB // SQLite: a read-only pool; PostgreSQL: the pool
	d     *dialect
	where string // names the database in errors, without a password
	// failCommits makes the next commits fail as a retryable conflict
	// would: the conformance suite's proof that Update runs fn again.
	failCommits atomic.Int32
	ids         *idReserve // PostgreSQL's row ids taken ahead (nextID); nil on SQLite
}

var _ service.Store = (*DB)(nil)

// IsURL reports whether s names a PostgreSQL database, not a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open opens the database named by dsn, a SQLite file path or a
// PostgreSQL URL (postgres://user:pass@host:port/db?…), creating it if
// needed, and brings its schema up to date.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	var err error
	if IsURL(dsn) {
		db, err = openPostgres(ctx, dsn)
	} else {
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", db.where, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close()) // one pool on PostgreSQL: Close is idempotent
}

// LatestSchema returns how many migrations this program knows.
func (db *DB) LatestSchema() int { return len(db.d.migrations) }

// SchemaVersion returns how many migrations the database has applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// migrate applies the missing migrations in one transaction. PostgreSQL
// instances that start together queue on an advisory lock: each
// migration is applied once.
func (db *DB) migrate(ctx context.Context) error {
	return db.update(ctx, func(t *Tx) error {
		if err := t.lock(lockMigrations, nil); err != nil {
			return err
		}
		if err := t.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		var done int
		if err := t.queryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&done); err != nil {
			return err
		}
		ms := db.d.migrations
		if done > len(ms) {
			return fmt.Errorf("database schema is newer than this program (version %d > %d)", done, len(ms))
		}
		for i := done; i < len(ms); i++ {
			if err := t.exec(ms[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if err := t.exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, i+1, time.Now().Unix()); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		return nil
	})
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
	var stored []byte
	err := db.update(ctx, func(t *Tx) error {
		return t.queryRow(`INSERT INTO settings (name, value) VALUES ('key_fingerprint', $1)
			ON CONFLICT (name) DO UPDATE SET value = settings.value RETURNING value`, fingerprint).Scan(&stored)
	})
	if err != nil {
		return fmt.Errorf("key fingerprint: %w", err)
	}
	if !bytes.Equal(stored, fingerprint) {
		return ErrOtherKey
	}
	return nil
}

// Update implements service.Store: fn runs in a write transaction,
// committed if fn returns nil.
//
// fn may run more than once, on both databases: when the database
// refuses the commit or a statement as a conflict that left nothing done
// (dialect.retryable), the transaction is rolled back and fn runs again
// whole, up to 10 times. So fn must not act outside the transaction, and
// what it returns must come from its last run: assign results in fn,
// never accumulate into captured state. A refusal that must still commit
// (an attempt counted, then refused) is returned as service.Commit(err):
// Update commits and returns it.
func (db *DB) Update(ctx context.Context, fn func(service.Tx) error) error {
	return db.update(ctx, func(t *Tx) error { return fn(t) })
}

// View implements service.Store: one read-only snapshot.
func (db *DB) View(ctx context.Context, fn func(service.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, db.d.viewOpts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(&Tx{ctx: ctx, tx: tx, d: db.d})
}

const maxTries = 10 // runs of one Update the database keeps refusing

func (db *DB) update(ctx context.Context, fn func(*Tx) error) error {
	for try := 1; ; try++ {
		err := db.try(ctx, fn)
		if !errors.Is(err, errInjected) && !db.d.retryable(err) || try == maxTries || ctx.Err() != nil {
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

// try runs fn once in a write transaction (a connection of its own, for
// COPY and batches).
func (db *DB) try(ctx context.Context, fn func(*Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, db.d.updateOpts)
	if err != nil {
		return err
	}
	defer tx.Rollback() // before the connection goes back, even if fn panics
	t := &Tx{ctx: ctx, tx: tx, conn: conn, d: db.d, write: true, ids: db.ids}
	ferr := fn(t)
	var keep *service.CommitError
	if ferr != nil && !errors.As(ferr, &keep) {
		return ferr
	}
	if err := t.flush(); err != nil {
		return err
	}
	if db.failCommits.Load() > 0 && db.failCommits.Add(-1) >= 0 {
		return errInjected
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return ferr // nil, or the committed refusal
}

// errInjected is the conflict failCommits makes.
var errInjected = errors.New("sqlstore: commit refused for a test")

// dialect is what SQLite and PostgreSQL spell differently; every
// statement is written once, with $n placeholders (SQLite reads $n as
// the n-th argument too), and takes these pieces where they differ.
type dialect struct {
	migrations []string
	updateOpts *sql.TxOptions
	viewOpts   *sql.TxOptions

	forUpdate  string // appended to a write transaction's lookups
	skipLocked string // appended to a claim: rows another claim holds are skipped
	rowID      string // the hidden column that names a row
	ilike      string // case-insensitive LIKE
	// writableWith: a WITH may hold an INSERT, UPDATE or DELETE.
	writableWith bool

	// lock takes a lock on (class, key) until the transaction ends; nil
	// where the single writer already holds every lock.
	lock func(t *Tx, class int32, key []byte) error
	in   func(param string) string // "IN (the list bound at param)"
	list func(slice any) any       // the value to bind for that list
	// sendAll runs statements in one round trip; nil in the process (SQLite).
	sendAll func(t *Tx, later []stmt) error
	// copyRows inserts rows into table at once.
	copyRows func(t *Tx, table string, cols []string, rows [][]any) error
	// retryable reports a conflict that left nothing done: the
	// transaction may run again.
	retryable func(error) bool
	// as reads expr as type typ (INTEGER, TEXT, BLOB) where a column may
	// hold a value of another type (SQLite), else expr.
	as func(expr, typ string) string
}
