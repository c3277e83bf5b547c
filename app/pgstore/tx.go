package pgstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"consulvote/app/service"
)

// Tx is one transaction; it implements every role of service.Tx.
type Tx struct {
	ctx context.Context
	tx  pgx.Tx
	// write is set in Update: lookups then lock what they decide on.
	write bool
}

var (
	_ service.Tx          = (*Tx)(nil)
	_ service.Voters      = (*Tx)(nil)
	_ service.Credentials = (*Tx)(nil)
	_ service.Lockouts    = (*Tx)(nil)
	_ service.Links       = (*Tx)(nil)
	_ service.Codes       = (*Tx)(nil)
	_ service.RateLimits  = (*Tx)(nil)
	_ service.Sessions    = (*Tx)(nil)
	_ service.Outbox      = (*Tx)(nil)
	_ service.AuditLog    = (*Tx)(nil)
	_ service.Agents      = (*Tx)(nil)
	_ service.Throttles   = (*Tx)(nil)
	_ service.Roll        = (*Tx)(nil)
	_ service.Campaigns   = (*Tx)(nil)

	_ service.ContactChanges = (*Tx)(nil)
)

// nanos stores a time; the zero time is NULL.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// timeOf reads what nanos stored.
func timeOf(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n)
}

func (t *Tx) exec(query string, args ...any) (pgconn.CommandTag, error) {
	return t.tx.Exec(t.ctx, query, args...)
}

func (t *Tx) queryRow(query string, args ...any) pgx.Row {
	return t.tx.QueryRow(t.ctx, query, args...)
}

// forUpdate is appended to the lookups that a write transaction decides
// on: the row stays locked until the transaction ends. NO KEY UPDATE, the
// lock an UPDATE of the row takes: it orders the writers of the row, and
// lets the foreign keys of other tables (an audit row, a link about the
// voter) check that the row exists, which a plain FOR UPDATE would block.
func (t *Tx) forUpdate() string {
	if t.write {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// lock takes a transaction advisory lock (class, key), held until the
// transaction ends.
func (t *Tx) lock(class int32, key int32) error {
	_, err := t.exec(`SELECT pg_advisory_xact_lock($1, $2)`, class, key)
	return err
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return service.ErrNotFound
	}
	return err
}

// unstorable reports a text PostgreSQL cannot hold (a NUL character): a
// lookup by it finds nothing, where the query would fail.
func unstorable(texts ...string) bool {
	for _, s := range texts {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}
