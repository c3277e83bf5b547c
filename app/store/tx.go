package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"consulvote/app/service"
)

// Tx is one transaction; it implements every role of service.Tx.
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
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
	_ service.Roll        = (*Tx)(nil)
	_ service.Campaigns   = (*Tx)(nil)

	_ service.ContactChanges = (*Tx)(nil)
)

// nanos stores a time; the zero time is NULL.
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

func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, query, args...)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return service.ErrNotFound
	}
	return err
}
