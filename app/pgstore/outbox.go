package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"consulvote/app/service"
)

func (t *Tx) Enqueue(m service.Message) (int64, error) {
	var voter *int64
	if m.VoterID != 0 {
		voter = &m.VoterID
	}
	var id int64
	err := t.queryRow(`INSERT INTO outbox (voter_id, channel, kind, recipient, subject, body, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		voter, string(m.Channel), m.Kind, m.Recipient, m.Subject, m.Body, nanos(m.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("enqueue message: %w", err)
	}
	return id, nil
}

const messageColumns = `id, COALESCE(voter_id, 0), channel, kind, recipient, subject, body, state, created_at, attempts, last_error`

func scanMessage(r pgx.CollectableRow) (service.Message, error) {
	var m service.Message
	var channel string
	var created *int64
	err := r.Scan(&m.ID, &m.VoterID, &channel, &m.Kind, &m.Recipient, &m.Subject, &m.Body,
		&m.State, &created, &m.Attempts, &m.LastError)
	m.Channel, m.CreatedAt = service.Channel(channel), timeOf(created)
	return m, err
}

func messages(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, where string, args ...any) ([]service.Message, error) {
	rows, err := q.Query(ctx, `SELECT `+messageColumns+` FROM outbox WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanMessage)
}

func (t *Tx) Messages(limit int) ([]service.Message, error) {
	return messages(t.ctx, t.tx, `TRUE ORDER BY id DESC LIMIT $1`, limit)
}

func (t *Tx) VoterMessages(voterID int64, limit int) ([]service.Message, error) {
	return messages(t.ctx, t.tx, `voter_id = $1 ORDER BY id DESC LIMIT $2`, voterID, limit)
}

func (t *Tx) OutboxCounts() (map[string]int, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{"pending": 0, "sent": 0, "failed": 0}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[state] = n
	}
	return counts, rows.Err()
}

func (t *Tx) OutboxDepth() ([]service.OutboxDepth, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT channel, state, COUNT(*), MIN(created_at) FROM outbox
		WHERE state <> 'sent' GROUP BY state, channel ORDER BY channel, state`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (service.OutboxDepth, error) {
		var d service.OutboxDepth
		var channel string
		var oldest *int64
		err := r.Scan(&channel, &d.State, &d.Count, &oldest)
		d.Channel, d.Oldest = service.Channel(channel), timeOf(oldest)
		return d, err
	})
}

func (t *Tx) FailedMessages(limit int) ([]service.Message, error) {
	return messages(t.ctx, t.tx, `state = 'failed' ORDER BY id DESC LIMIT $1`, limit)
}

func (t *Tx) Requeue(id int64, now time.Time) (bool, error) {
	tag, err := t.exec(`UPDATE outbox SET state = 'pending', next_attempt_at = $1, attempts = 0 WHERE id = $2 AND state = 'failed'`,
		nanos(now), id)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimDue claims due messages in one statement (outbox.Queue): the
// oldest due rows that no other transaction has locked (FOR UPDATE SKIP
// LOCKED: two workers claiming at once take different messages, neither
// waits) get their next attempt moved to now+lease.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, channels []service.Channel, limit int) ([]service.Message, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	names := make([]string, len(channels))
	for i, c := range channels {
		names[i] = string(c)
	}
	rows, err := db.pool.Query(ctx, `WITH due AS (
			SELECT id, next_attempt_at FROM outbox
			WHERE state = 'pending' AND next_attempt_at <= $1 AND channel = ANY($2)
			ORDER BY next_attempt_at, id LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET next_attempt_at = $4 FROM due WHERE o.id = due.id
		RETURNING due.next_attempt_at, o.id, COALESCE(o.voter_id, 0), o.channel, o.kind, o.recipient, o.subject, o.body,
			o.state, o.created_at, o.attempts, o.last_error`,
		nanos(now), names, limit, nanos(now.Add(lease)))
	if err != nil {
		return nil, err
	}
	type claimed struct {
		due int64
		m   service.Message
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		var channel string
		var created *int64
		err := r.Scan(&c.due, &c.m.ID, &c.m.VoterID, &channel, &c.m.Kind, &c.m.Recipient, &c.m.Subject, &c.m.Body,
			&c.m.State, &created, &c.m.Attempts, &c.m.LastError)
		c.m.Channel, c.m.CreatedAt = service.Channel(channel), timeOf(created)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING keeps no order: oldest due first, as claimed.
	slices.SortFunc(cs, func(a, b claimed) int { return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.m.ID, b.m.ID)) })
	ms := make([]service.Message, len(cs))
	for i, c := range cs {
		ms[i] = c.m
	}
	return ms, nil
}

// ReleaseClaims gives back claimed messages not attempted (outbox.Queue).
func (db *DB) ReleaseClaims(ctx context.Context, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET next_attempt_at = $1 WHERE state = 'pending' AND id = ANY($2)`, nanos(now), ids)
	return err
}

// MarkSent records a message as delivered and scrubs its sealed body
// (outbox.Queue).
func (db *DB) MarkSent(ctx context.Context, id int64, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1, last_error = '',
		body = '\x'::bytea WHERE id = $2`, nanos(at), id)
	return err
}

// MarkAttempt records a failed attempt: the error, and when to try again,
// or that the message failed for good when final (outbox.Queue).
func (db *DB) MarkAttempt(ctx context.Context, id int64, lastErr string, next time.Time, final bool) error {
	state := "pending"
	if final {
		state = "failed"
	}
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = $3
		WHERE id = $4`, state, lastErr, nanos(next), id)
	return err
}
