package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// enqueue seals an e-mail and queues it in tx.
func (s *core) enqueue(tx Outbox, v Voter, kind string, msg mail.Message, now time.Time) error {
	return s.queue(tx, Message{VoterID: v.ID, Channel: ChannelEmail, Kind: kind, Recipient: msg.To,
		Subject: msg.Subject, Body: msg.Raw, CreatedAt: now, MessageID: msg.MessageID})
}

// queue seals m.Body, bound to its recipient, and queues m in tx.
func (s *core) queue(tx Outbox, m Message) error {
	body, err := s.box.Seal(m.Body, []byte(m.Recipient))
	if err != nil {
		return err
	}
	m.Body, m.State = body, "pending"
	_, err = tx.Enqueue(m)
	return err
}

// Messages implements portal.Outbox: the newest messages, newest first,
// with their text decoded. Only the local demonstration wires it to the
// screens.
func (s *Portal) Messages(ctx context.Context, limit int) ([]portal.Message, error) {
	var ms []Message
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		ms, err = tx.Messages(MessageFilter{Limit: limit})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out := make([]portal.Message, len(ms))
	for i, m := range ms {
		var raw []byte
		if len(m.Body) > 0 { // a sent message's body is scrubbed
			if raw, err = s.openMessage(m); err != nil {
				return nil, fmt.Errorf("outbox message %d: %w", m.ID, err)
			}
		}
		text := string(raw)
		if m.Channel == ChannelEmail {
			if text, _, err = mail.Parts(raw); err != nil {
				return nil, fmt.Errorf("outbox message %d: %w", m.ID, err)
			}
		}
		out[i] = portal.Message{ID: m.ID, Channel: string(m.Channel), To: m.Recipient, Subject: m.Subject,
			Text: text, State: m.State, CreatedAt: m.CreatedAt}
	}
	return out, nil
}

// Sender is the sender of the e-mails the service queues, for the
// delivery worker's envelope.
func (s *Operator) Sender() string { return s.cfg.Mail.From }

// OpenMessage unseals a queued message's body, for the delivery worker.
func (s *Operator) OpenMessage(m Message) ([]byte, error) { return s.openMessage(m) }

func (s *core) openMessage(m Message) ([]byte, error) {
	return s.box.Open(m.Body, []byte(m.Recipient))
}

// OutboxStatus implements portal.Office.
func (s *Office) OutboxStatus(ctx context.Context, token string) (portal.OutboxStatus, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return portal.OutboxStatus{}, err
	}
	var st portal.OutboxStatus
	err = s.store.View(ctx, func(tx Tx) error {
		failed, err := tx.Messages(MessageFilter{State: "failed", Limit: 100})
		if err != nil {
			return err
		}
		for _, m := range failed {
			if ok, err := seesVoter(tx, a, m.VoterID); err != nil {
				return err
			} else if ok {
				st.Failed = append(st.Failed, messageState(m))
			}
		}
		return deliveryStatus(tx, &st)
	})
	if err != nil {
		return portal.OutboxStatus{}, fmt.Errorf("outbox status: %w", err)
	}
	return st, nil
}

// RetryMessage implements portal.Office.
func (s *Office) RetryMessage(ctx context.Context, token string, id int64, why string) error {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return err
	}
	if why, err = reason(why); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.store.Update(ctx, func(tx Tx) error {
		// Another circonscription's message is not there for this agent:
		// only one the outbox screen shows it.
		if ok, err := seesMessage(tx, a, id); err != nil {
			return err
		} else if !ok {
			return portal.ErrNotFound
		}
		ok, err := tx.Requeue(id, now)
		if err != nil {
			return err
		}
		if !ok {
			return portal.ErrNotFound
		}
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "outbox.retry",
			Detail: facts("message", strconv.FormatInt(id, 10), "reason", why)})
	})
}

func messageState(m Message) portal.MessageState {
	return portal.MessageState{ID: m.ID, Channel: string(m.Channel), Kind: m.Kind, Recipient: m.Recipient,
		State: m.State, Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt,
		Delivery: m.Delivery, DeliveryStatus: m.DeliveryStatus, DeliveryAt: m.DeliveryAt}
}

// OutboxDepth is how many messages of a channel are in a state, and when
// the oldest of them was queued.
type OutboxDepth struct {
	Channel Channel
	State   string
	Count   int
	Oldest  time.Time
}

// OutboxDepth returns the outbox's unsent messages by channel and state,
// for the metrics.
func (s *Operator) OutboxDepth(ctx context.Context) ([]OutboxDepth, error) {
	var d []OutboxDepth
	err := s.store.View(ctx, func(tx Tx) (err error) {
		d, err = tx.OutboxDepth()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox depth: %w", err)
	}
	return d, nil
}
