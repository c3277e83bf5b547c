package sqlstore

import (
	"context"
	"strings"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

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
