package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"consulvote/app/portal"
)

// Deliveries keeps what became of the messages after the relay or the
// gateway took them: the recipient's server's report, the gateway's
// receipt. A state is a fact reported from outside, set on the message's
// own row: it goes when the row goes.
type Deliveries interface {
	// SetDelivery sets a sent message's delivery state and the remote
	// answer, in one conditional update: only a message of that channel,
	// sent, with no state yet or "delayed"; a final state (delivered,
	// refused, expired) stays. It reports whether it changed the row: of
	// the same report received twice, by one instance or two, one sets it.
	SetDelivery(id int64, channel Channel, state, status string, at time.Time) (bool, error)
	// StageCounts counts the messages by stage (portal.Stages).
	StageCounts() (map[string]int, error)
	// DomainDeliveries returns the e-mail recipients' domains with the
	// most sent messages, at most limit, most first, with how many of
	// those were refused.
	DomainDeliveries(limit int) ([]portal.DomainDelivery, error)
}

// The delivery states (portal.DeliveryStates).
const (
	Delivered = "delivered"
	Delayed   = "delayed"
	Refused   = "refused"
	Expired   = "expired"
)

// DeliveryStates lists them; Channels lists the channels.
var (
	DeliveryStates = []string{Delivered, Delayed, Refused, Expired}
	Channels       = []Channel{ChannelEmail, ChannelSMS}
)

// Sent is an e-mail as it left, for matching a report to it.
type Sent struct {
	Recipient string
	MessageID string
}

// errNotSentYet answers a report of an e-mail the relay took but that is
// not marked sent yet (a report as fast as the mark): the intake asks the
// reporting relay to try again later rather than drop it.
var errNotSentYet = errors.New("e-mail not marked sent yet")

// SentEmail returns e-mail id as it left, for the bounce intake;
// ErrNotFound when there is no such e-mail or it failed, errNotSentYet
// while it is still pending.
func (s *Operator) SentEmail(ctx context.Context, id int64) (Sent, error) {
	var m Message
	err := s.store.View(ctx, func(tx Tx) (err error) {
		m, err = oneMessage(tx, MessageFilter{ID: id})
		return err
	})
	if err != nil {
		return Sent{}, fmt.Errorf("sent e-mail %d: %w", id, err)
	}
	switch {
	case m.Channel != ChannelEmail || m.State == "failed":
		return Sent{}, fmt.Errorf("sent e-mail %d: %w", id, ErrNotFound)
	case m.State != "sent":
		return Sent{}, fmt.Errorf("sent e-mail %d: %w", id, errNotSentYet)
	}
	return Sent{Recipient: m.Recipient, MessageID: m.MessageID}, nil
}

// RecordDelivery sets what a report or a receipt says of message id: one
// state, one line of remote answer, nothing else. It reports whether the
// state changed (a repeated report changes nothing). Not audited one by
// one: a campaign's reports would flood the audit log with facts that no
// agent or voter did; each change is logged and counted instead (the
// message's row keeps it, with its time).
func (s *Operator) RecordDelivery(ctx context.Context, id int64, channel Channel, state, status string) (bool, error) {
	switch state {
	case Delivered, Delayed, Refused, Expired:
	default:
		return false, fmt.Errorf("delivery of %d: unknown state %q", id, state)
	}
	if len(status) > maxDeliveryStatus {
		status = status[:maxDeliveryStatus]
	}
	var changed bool
	err := s.store.Update(ctx, func(tx Tx) (err error) {
		changed, err = tx.SetDelivery(id, channel, state, status, s.clock.Now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("delivery of %d: %w", id, err)
	}
	if changed {
		s.log.Info("delivery state", "id", id, "channel", channel, "state", state)
	}
	return changed, nil
}

// maxDeliveryStatus bounds a remote answer kept, in bytes.
const maxDeliveryStatus = 300

// SMSByGatewayID returns the id of the SMS a gateway knows as gatewayID,
// or ErrNotFound.
func (s *Operator) SMSByGatewayID(ctx context.Context, gateway, gatewayID string) (int64, error) {
	var m Message
	err := s.store.View(ctx, func(tx Tx) (err error) {
		m, err = oneMessage(tx, MessageFilter{Gateway: gateway, GatewayID: gatewayID, Limit: 1})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("SMS %q of %s: %w", gatewayID, gateway, err)
	}
	return m.ID, nil
}

// oneMessage returns the message f selects, the newest if several, or
// ErrNotFound.
func oneMessage(tx Outbox, f MessageFilter) (Message, error) {
	ms, err := tx.Messages(f)
	if err != nil {
		return Message{}, err
	}
	if len(ms) == 0 {
		return Message{}, ErrNotFound
	}
	return ms[0], nil
}

// deliveryStatus adds the counts by state and by stage, and the domains,
// to the outbox status.
func deliveryStatus(tx Deliveries, st *portal.OutboxStatus) (err error) {
	if st.Stages, err = tx.StageCounts(); err != nil {
		return err
	}
	st.Counts = map[string]int{"pending": 0, "sent": 0, "failed": 0}
	for _, k := range portal.Stages {
		n := st.Stages[k]
		st.Stages[k] = n
		switch k {
		case "queued":
			st.Counts["pending"] += n
		case "failed":
			st.Counts["failed"] += n
		default:
			st.Counts["sent"] += n
		}
	}
	st.Domains, err = tx.DomainDeliveries(portal.MaxDomains)
	return err
}
