package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"consulvote/app/service"
)

func (t *Tx) Enqueue(m service.Message) (int64, error) {
	var voter any
	if m.VoterID != 0 {
		voter = m.VoterID
	}
	r, err := t.exec(`INSERT INTO outbox (voter_id, channel, kind, recipient, subject, body, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		voter, string(m.Channel), m.Kind, m.Recipient, m.Subject, m.Body, nanos(m.CreatedAt), nanos(m.CreatedAt))
	if err != nil {
		return 0, fmt.Errorf("enqueue message: %w", err)
	}
	return r.LastInsertId()
}

const messageColumns = `id, COALESCE(voter_id, 0), channel, kind, recipient, subject, body, state, created_at, attempts, last_error`

func (t *Tx) messages(where string, args ...any) ([]service.Message, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+messageColumns+` FROM outbox WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []service.Message
	for rows.Next() {
		var m service.Message
		var channel string
		var created sql.NullInt64
		if err := rows.Scan(&m.ID, &m.VoterID, &channel, &m.Kind, &m.Recipient, &m.Subject, &m.Body,
			&m.State, &created, &m.Attempts, &m.LastError); err != nil {
			return nil, err
		}
		m.Channel, m.CreatedAt = service.Channel(channel), timeOf(created)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

func (t *Tx) Messages(limit int) ([]service.Message, error) {
	return t.messages(`1 ORDER BY id DESC LIMIT ?`, limit)
}

func (t *Tx) VoterMessages(voterID int64, limit int) ([]service.Message, error) {
	return t.messages(`voter_id = ? ORDER BY id DESC LIMIT ?`, voterID, limit)
}

func (t *Tx) OutboxCounts() (map[string]int, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
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
	rows, err := t.tx.QueryContext(t.ctx, `SELECT channel, state, COUNT(*), MIN(created_at) FROM outbox
		WHERE state <> 'sent' GROUP BY state, channel ORDER BY channel, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []service.OutboxDepth
	for rows.Next() {
		var d service.OutboxDepth
		var oldest sql.NullInt64
		if err := rows.Scan(&d.Channel, &d.State, &d.Count, &oldest); err != nil {
			return nil, err
		}
		d.Oldest = timeOf(oldest)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

func (t *Tx) FailedMessages(limit int) ([]service.Message, error) {
	return t.messages(`state = 'failed' ORDER BY id DESC LIMIT ?`, limit)
}

func (t *Tx) Requeue(id int64, now time.Time) (bool, error) {
	r, err := t.exec(`UPDATE outbox SET state = 'pending', next_attempt_at = ?, attempts = 0 WHERE id = ? AND state = 'failed'`, nanos(now), id)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// ClaimDue returns pending messages of the given channels whose next
// attempt is due at now, oldest first, and moves their next attempt to
// now+lease: the delivery worker's claim (outbox.Queue). SQLite's single
// writer orders concurrent claims.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, channels []service.Channel, limit int) ([]service.Message, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	in := strings.Repeat("?, ", len(channels)-1) + "?"
	args := []any{nanos(now)}
	for _, c := range channels {
		args = append(args, string(c))
	}
	var ms []service.Message
	err := db.update(ctx, func(t *Tx) (err error) {
		ms, err = t.messages(`state = 'pending' AND next_attempt_at <= ? AND channel IN (`+in+`) ORDER BY next_attempt_at, id LIMIT ?`,
			append(args, limit)...)
		for _, m := range ms {
			if _, err := t.exec(`UPDATE outbox SET next_attempt_at = ? WHERE id = ?`, nanos(now.Add(lease)), m.ID); err != nil {
				return err
			}
		}
		return err
	})
	return ms, err
}

// ReleaseClaims gives back claimed messages not attempted (outbox.Queue).
func (db *DB) ReleaseClaims(ctx context.Context, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{nanos(now)}
	for _, id := range ids {
		args = append(args, id)
	}
	return db.update(ctx, func(t *Tx) error {
		_, err := t.exec(`UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND id IN (`+
			strings.Repeat("?, ", len(ids)-1)+`?)`, args...)
		return err
	})
}

// MarkSent records a message as delivered and scrubs its sealed body
// (outbox.Queue).
func (db *DB) MarkSent(ctx context.Context, id int64, at time.Time) error {
	return db.update(ctx, func(t *Tx) error {
		// The sealed body goes once sent: a copy of a link or a password kept
		// for ever is one more to steal. What the desk shows stays.
		_, err := t.exec(`UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '', body = x'' WHERE id = ?`, nanos(at), id)
		return err
	})
}

// MarkAttempt records a failed attempt: the error, and when to try again,
// or that the message failed for good when final (outbox.Queue).
func (db *DB) MarkAttempt(ctx context.Context, id int64, lastErr string, next time.Time, final bool) error {
	state := "pending"
	if final {
		state = "failed"
	}
	return db.update(ctx, func(t *Tx) error {
		_, err := t.exec(`UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
			state, lastErr, nanos(next), id)
		return err
	})
}
