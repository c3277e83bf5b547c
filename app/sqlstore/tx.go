package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"consulvote/app/service"
)

// Tx is one transaction; it implements every role of service.Tx.
type Tx struct {
	ctx  context.Context
	tx   *sql.Tx
	conn *sql.Conn // a write transaction's connection (COPY, batches)
	d    *dialect
	// write is set in Update: lookups then lock what they decide on.
	write bool
	// rates holds the rate limits' times read in this transaction, by
	// key, for AddRateEvent to write back.
	rates map[string][]int64
	// later holds the statements execLater kept for the next round trip.
	later []stmt
	// ids reserves row ids ahead (PostgreSQL; DB.ids), nil elsewhere.
	ids *idReserve
}

// stmt is a statement kept for later, and what it does, for its error.
type stmt struct {
	what, query string
	args        []any
}

var _ service.Tx = (*Tx)(nil) // and so every role: Tx embeds them all

// Advisory lock classes (PostgreSQL's pg_advisory_xact_lock(class, key)):
// the class keeps the uses apart. SQLite's single writer holds them all.
const (
	lockMigrations = 1 // key 0
	lockAudit      = 2 // the audit checkpoints' sequence; key 0
	lockAddress    = 4 // the desk's moves onto an e-mail address; key from its keyed hash
)

// nanos stores a time as Unix nanoseconds; the zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// timeOf reads what nanos stored.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}

// bytesOrNull stores an empty hash as NULL, as "no identifier".
func bytesOrNull(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (t *Tx) exec(query string, args ...any) error {
	_, err := t.affected(query, args...)
	return err
}

func (t *Tx) queryRow(query string, args ...any) row {
	if err := t.flush(); err != nil {
		return row{err: err}
	}
	return row{Row: t.tx.QueryRowContext(t.ctx, query, args...)}
}

// row is a *sql.Row, or the failure of the statements sent before it.
type row struct {
	*sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Scan(dest...)
}

// execLater runs a statement whose outcome nobody reads but its error,
// where the dialect sends statements together (PostgreSQL): with the next
// ones kept, before the next statement or the commit, in one round trip.
// Its error comes from there, what naming it. Elsewhere it runs now.
func (t *Tx) execLater(what, query string, args ...any) error {
	if t.d.sendAll == nil {
		err := t.exec(query, args...)
		return errWrap(what, err)
	}
	t.later = append(t.later, stmt{what, query, args})
	return nil
}

// flush sends the statements execLater kept.
func (t *Tx) flush() error {
	later := t.later
	t.later = nil
	switch len(later) {
	case 0:
		return nil
	case 1:
		_, err := t.tx.ExecContext(t.ctx, later[0].query, later[0].args...)
		return errWrap(later[0].what, err)
	}
	return t.d.sendAll(t, later)
}

// changed runs a conditional statement and reports whether it changed
// exactly one row.
func (t *Tx) changed(query string, args ...any) (bool, error) {
	n, err := t.affected(query, args...)
	return n == 1, err
}

// affected runs a statement and returns how many rows it changed.
func (t *Tx) affected(query string, args ...any) (int64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	r, err := t.tx.ExecContext(t.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// forUpdate is appended to the lookups that a write transaction decides
// on: the row stays locked until the transaction ends.
func (t *Tx) forUpdate() string {
	if t.write {
		return t.d.forUpdate
	}
	return ""
}

// lock takes the lock (class, key) until the transaction ends, in a
// write transaction.
func (t *Tx) lock(class int32, key []byte) error {
	if !t.write || t.d.lock == nil {
		return nil
	}
	return t.d.lock(t, class, key)
}

// scanner is a row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// each calls fn on every row of a query.
func each(rows *sql.Rows, err error, fn func(scanner) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// collect reads every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) (out []T, _ error) {
	return out, each(rows, err, func(r scanner) error {
		v, err := scan(r)
		out = append(out, v)
		return err
	})
}

func (t *Tx) query(query string, args ...any) (*sql.Rows, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

// scanOne reads a row of one column.
func scanOne[T any](r scanner) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// errWrap adds what failed to err, if any.
func errWrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return service.ErrNotFound
	}
	return err
}

// unstorable reports a text PostgreSQL cannot hold (a NUL character): a
// lookup by it finds nothing, where the query would fail. No stored text
// holds one on SQLite either: the same answer on both.
func unstorable(texts ...string) bool {
	for _, s := range texts {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}
