package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

func (t *Tx) Enqueue(m service.Message) (int64, error) {
	return t.insertRow("outbox", "enqueue message", `INSERT INTO outbox (id, voter_id, channel, kind, recipient, subject, body,
		created_at, next_attempt_at, message_id, recipient_domain) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)`,
		idOrNull(m.VoterID), string(m.Channel), m.Kind, m.Recipient, m.Subject, m.Body, nanos(m.CreatedAt), m.MessageID, domainOf(m))
}

const messageColumns = `id, COALESCE(voter_id, 0), channel, kind, recipient, subject, body, state, created_at, attempts, last_error,
	message_id, gateway, gateway_id, delivery, delivery_status, delivery_at`

func scanMessage(r scanner) (service.Message, error) {
	var m service.Message
	var channel string
	var created, delivered sql.NullInt64
	err := r.Scan(&m.ID, &m.VoterID, &channel, &m.Kind, &m.Recipient, &m.Subject, &m.Body,
		&m.State, &created, &m.Attempts, &m.LastError,
		&m.MessageID, &m.Gateway, &m.GatewayID, &m.Delivery, &m.DeliveryStatus, &delivered)
	m.Channel, m.CreatedAt, m.DeliveryAt = service.Channel(channel), timeOf(created), timeOf(delivered)
	return m, err
}

func (t *Tx) messages(where string, args ...any) ([]service.Message, error) {
	rows, err := t.query(`SELECT `+messageColumns+` FROM outbox WHERE `+where, args...)
	return collect(rows, err, scanMessage)
}

// Messages adds a condition for each field of f that is set: each
// statement is one an index serves.
func (t *Tx) Messages(f service.MessageFilter) ([]service.Message, error) {
	var q strings.Builder
	q.WriteString("TRUE")
	var args []any
	for _, c := range []struct {
		set  bool
		cond string
		arg  any
	}{
		{f.ID != 0, "id = ", f.ID},
		{f.VoterID != 0, "voter_id = ", f.VoterID},
		{f.State != "", "state = ", f.State},
		{f.Gateway != "", "channel = 'sms' AND gateway = ", f.Gateway},
		{f.Gateway != "", "gateway_id <> '' AND gateway_id = ", f.GatewayID},
	} {
		if c.set {
			args = append(args, c.arg)
			fmt.Fprintf(&q, " AND %s$%d", c.cond, len(args))
		}
	}
	fmt.Fprintf(&q, " ORDER BY id DESC LIMIT $%d", len(args)+1)
	return t.messages(q.String(), append(args, cmp.Or(max(f.Limit, 0), math.MaxInt32))...) // 0: no limit
}

func (t *Tx) OutboxDepth() ([]service.OutboxDepth, error) {
	rows, err := t.query(`SELECT channel, state, COUNT(*), MIN(created_at) FROM outbox
		WHERE state <> 'sent' GROUP BY state, channel ORDER BY channel, state`)
	return collect(rows, err, func(r scanner) (service.OutboxDepth, error) {
		var d service.OutboxDepth
		var channel string
		var oldest sql.NullInt64
		err := r.Scan(&channel, &d.State, &d.Count, &oldest)
		d.Channel, d.Oldest = service.Channel(channel), timeOf(oldest)
		return d, err
	})
}

func (t *Tx) Requeue(id int64, now time.Time) (bool, error) {
	ok, err := t.changed(`UPDATE outbox SET state = 'pending', next_attempt_at = $1, attempts = 0 WHERE id = $2 AND state = 'failed'`,
		nanos(now), id)
	return ok, errWrap("requeue", err)
}

// ClaimDue returns pending messages of the given channels whose next
// attempt is due at now, oldest first, and moves their next attempt to
// now+lease (outbox.Queue). Rows another claim holds are skipped: two
// workers claiming at once take different messages, neither waits.
func (db *DB) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, channels []service.Channel, limit int) ([]service.Message, error) {
	if len(channels) == 0 || limit <= 0 {
		return nil, nil
	}
	names := make([]string, len(channels))
	for i, c := range channels {
		names[i] = string(c)
	}
	var ms []service.Message
	err := db.update(ctx, func(t *Tx) (err error) {
		ms, err = t.messages(`state = 'pending' AND next_attempt_at <= $1 AND channel `+t.d.in("$2")+
			` ORDER BY next_attempt_at, id LIMIT $3`+t.d.skipLocked, nanos(now), t.d.list(names), limit)
		if err != nil || len(ms) == 0 {
			return err
		}
		ids := make([]int64, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		err = t.exec(`UPDATE outbox SET next_attempt_at = $1 WHERE id `+t.d.in("$2"), nanos(now.Add(lease)), t.d.list(ids))
		return err
	})
	return ms, err
}

// ReleaseClaims implements outbox.Queue.
func (db *DB) ReleaseClaims(ctx context.Context, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.write.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $1 WHERE state = 'pending' AND id `+db.d.in("$2"),
		nanos(now), db.d.list(ids))
	return err
}

// MarkSent implements outbox.Queue. The sealed body goes once sent
// (unless kept for the fallback gateway): a copy of a link or a password
// kept for ever is one more to steal. What the desk shows stays.
func (db *DB) MarkSent(ctx context.Context, id int64, at time.Time, gateway, gatewayID string, keep bool) error {
	_, err := db.write.ExecContext(ctx, `UPDATE outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1, last_error = '',
		body = CASE WHEN $2 THEN body ELSE $3 END, gateway = $4, gateway_id = $5,
		delivery = '', delivery_status = '', delivery_at = NULL WHERE id = $6`, nanos(at), keep, []byte{}, gateway, gatewayID, id)
	return err
}

// MarkAttempt implements outbox.Queue.
func (db *DB) MarkAttempt(ctx context.Context, id int64, lastErr string, next time.Time, final bool) error {
	_, err := db.write.ExecContext(ctx, `UPDATE outbox SET state = CASE WHEN $1 THEN 'failed' ELSE 'pending' END,
		attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $4`, final, lastErr, nanos(next), id)
	return err
}

// The delivery states of the messages (service.Deliveries) and the SMS
// fallback's claim (outbox.Queue).

// SetDelivery changes a sent message with no state yet or a delay only,
// in one conditional update, which decides between concurrent reports
// (of one instance or several). A delivered message's body goes: no
// fallback will need it.
func (t *Tx) SetDelivery(id int64, channel service.Channel, state, status string, at time.Time) (bool, error) {
	ok, err := t.changed(`UPDATE outbox SET delivery = $1, delivery_status = $2, delivery_at = $3,
		body = CASE WHEN $1 = 'delivered' THEN $4 ELSE body END
		WHERE id = $5 AND channel = $6 AND state = 'sent' AND (delivery = '' OR (delivery = 'delayed' AND $1 <> 'delayed'))`,
		state, status, nanos(at), []byte{}, id, string(channel))
	return ok, errWrap("set delivery", err)
}

func (t *Tx) StageCounts() (map[string]int, error) {
	counts := map[string]int{}
	rows, err := t.query(`SELECT CASE WHEN state = 'pending' THEN 'queued' WHEN state = 'failed' THEN 'failed'
		WHEN delivery <> '' THEN delivery ELSE 'relayed' END AS stage, COUNT(*) FROM outbox GROUP BY stage`)
	err = each(rows, err, func(r scanner) error {
		var stage string
		var n int
		err := r.Scan(&stage, &n)
		counts[stage] = n
		return err
	})
	return counts, err
}

func (t *Tx) DomainDeliveries(limit int) ([]portal.DomainDelivery, error) {
	rows, err := t.query(`SELECT recipient_domain, COUNT(*), SUM(CASE WHEN delivery = 'refused' THEN 1 ELSE 0 END) FROM outbox
		WHERE channel = 'email' AND state = 'sent' GROUP BY recipient_domain ORDER BY COUNT(*) DESC, recipient_domain LIMIT $1`, limit)
	return collect(rows, err, func(r scanner) (portal.DomainDelivery, error) {
		var d portal.DomainDelivery
		err := r.Scan(&d.Domain, &d.Relayed, &d.Refused)
		return d, err
	})
}

// ClaimFallback implements outbox.Queue: each SMS moves to the fallback
// gateway in a conditional update, so that of concurrent workers one
// gets it.
func (db *DB) ClaimFallback(ctx context.Context, unconfirmedBefore time.Time, limit int) ([]service.Message, error) {
	var claimed []service.Message
	err := db.update(ctx, func(t *Tx) error {
		ms, err := t.messages(`channel = 'sms' AND state = 'sent' AND gateway = 'primary' AND length(body) > 0
			AND (delivery IN ('refused', 'expired') OR (delivery = '' AND sent_at <= $1)) ORDER BY id LIMIT $2`,
			nanos(unconfirmedBefore), limit)
		claimed = ms[:0] // this run's only: fn may run again
		for _, m := range ms {
			ok, err := t.changed(`UPDATE outbox SET gateway = 'fallback', gateway_id = '' WHERE id = $1 AND gateway = 'primary'`, m.ID)
			if err != nil {
				return err
			}
			if ok {
				claimed = append(claimed, m)
			}
		}
		return err
	})
	return claimed, err
}

// domainOf is an e-mail's recipient's domain in lower case ("" for an
// SMS), kept apart for the refusal rate by domain.
func domainOf(m service.Message) string {
	if i := strings.LastIndexByte(m.Recipient, '@'); m.Channel == service.ChannelEmail && i >= 0 {
		return strings.ToLower(m.Recipient[i+1:])
	}
	return ""
}
