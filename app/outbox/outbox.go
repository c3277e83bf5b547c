// Package outbox delivers the messages the service queued: e-mails over
// SMTP, SMS through a gateway, with retries and backoff, so that an outage
// of the relay loses nothing.
//
// Guarantee: at least once, and at most once in practice. A message is
// marked sent right after the relay accepts it (250 after DATA). If the
// process dies between that answer and the mark, the message is sent again
// after restart, with the same Message-Id, so that a receiving system can
// drop the copy; SMTP offers no way to do better.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"consulvote/app/service"
)

// Mailer sends one e-mail, raw as queued (RFC 5322).
type Mailer interface {
	Send(ctx context.Context, env Envelope, raw []byte) error
}

// SMSGateway sends one SMS and returns the gateway's id of it ("" when
// the gateway gives none), which its delivery receipts name.
type SMSGateway interface {
	Send(ctx context.Context, to, text string) (id string, err error)
}

// PrimaryGateway names the SMS gateway of --sms-gateway, in the outbox
// and in the receipts' URL.
const PrimaryGateway = "primary"

// FallbackGateway names the gateway of --sms-gateway-fallback.
const FallbackGateway = "fallback"

// ReturnPaths names each e-mail in its envelope sender, so that what comes
// back can be traced to it (app/bounce).
type ReturnPaths interface {
	// ReturnPath returns message id's envelope sender and the reference
	// it carries, asked back as the DSN's envelope id.
	ReturnPath(id int64) (address, ref string)
}

// Queue is the outbox as the worker sees it; the stores implement it.
// Each call is its own transaction.
type Queue interface {
	// ClaimDue returns up to limit pending messages of the given channels
	// whose next attempt is due at now, oldest first, and claims them
	// until now+lease: before then no other caller, in this process or in
	// another server instance, gets them, unless they are marked first. A
	// worker that dies holding claims leaves them to run out: the
	// messages are due again then, and another worker sends them.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, channels []service.Channel, limit int) ([]service.Message, error)
	// ReleaseClaims gives back claimed messages that were not attempted:
	// those still pending are due again at now.
	ReleaseClaims(ctx context.Context, ids []int64, now time.Time) error
	// MarkSent records a message as handed over and scrubs its sealed
	// body, keeping what the desk shows (recipient, kind, subject, state,
	// times), and for an SMS the gateway that took it and its id there
	// (its delivery state starts again). keep keeps the sealed body: for
	// the fallback gateway, until a receipt says delivered or the
	// fallback has sent it.
	MarkSent(ctx context.Context, id int64, at time.Time, gateway, gatewayID string, keep bool) error
	// ClaimFallback takes, for the fallback gateway, up to limit SMS the
	// primary gateway took that its receipts said undelivered or expired,
	// or did not confirm by unconfirmedBefore: each moves to the fallback
	// in one conditional update, so that of any number of workers one
	// gets it, once.
	ClaimFallback(ctx context.Context, unconfirmedBefore time.Time, limit int) ([]service.Message, error)
	// MarkAttempt records a failed attempt: the error, and when to try
	// again, or that the message failed for good when final.
	MarkAttempt(ctx context.Context, id int64, lastErr string, next time.Time, final bool) error
}

// Worker delivers due messages. A nil Mailer or SMS leaves that channel's
// messages in the outbox (the local demonstration reads them there).
type Worker struct {
	Store Queue
	// Open unseals a queued message's body (service.Service.OpenMessage).
	Open func(service.Message) ([]byte, error)
	Mail Mailer
	SMS  SMSGateway
	// SMSFallback, when set, sends once more, and only once, an SMS that
	// the primary gateway reported undelivered or expired, or did not
	// confirm within FallbackAfter (10 min).
	SMSFallback   SMSGateway
	FallbackAfter time.Duration
	From          string // envelope sender of e-mails, without ReturnPaths
	// ReturnPaths, when set, gives each e-mail its own envelope sender,
	// and asks the relay for delivery status notifications.
	ReturnPaths ReturnPaths
	Clock       service.Clock
	Log         *slog.Logger
	// Poll is the pause between rounds when nothing is due (1 s).
	Poll time.Duration
	// MaxAttempts before a message is marked failed (20: with the backoff
	// capped at an hour, about a day of trying).
	MaxAttempts int
	// Lease is how long a round's claim on its messages lasts (2 min).
	// Each delivery must end within the first three quarters of it, or it
	// is abandoned: so a claim never runs out while its message is being
	// sent, and no two workers send one message. A worker killed
	// mid-round delays its messages by at most a lease.
	Lease time.Duration
	// Batch is how many messages a round claims (10).
	Batch int
	// Drain is how long Run, once its context ends, lets the message being
	// sent finish (10 s); its outcome is recorded. Messages claimed but
	// not started come back when the claim runs out.
	Drain time.Duration
	// MailRelay and SMSRelay name the relay and the gateway for the
	// observer (their host names: never a credential).
	MailRelay, SMSRelay, SMSFallbackRelay string
	// Observer is told each delivery and failure (default: nobody).
	Observer Observer

	progress atomic.Int64 // Unix nanoseconds of the last sign of life
}

// Observer is told the worker's deliveries, for the operators' metrics.
// It gets the channel, the relay's name and durations: never a
// recipient or a body.
type Observer interface {
	// Delivered: the relay accepted a message after it took d; again
	// when it is the fallback gateway taking an SMS the primary one
	// already took (the message was relayed once).
	Delivered(channel service.Channel, relay string, d time.Duration, again bool)
	// Failed: an attempt failed; final when the message is given up.
	Failed(channel service.Channel, relay string, final bool)
}

type nopObserver struct{}

func (nopObserver) Delivered(service.Channel, string, time.Duration, bool) {}
func (nopObserver) Failed(service.Channel, string, bool)                   {}

// LastProgress returns when the worker last showed it was not stuck: the
// start of a round, or the end of a delivery attempt. Zero before Run.
func (w *Worker) LastProgress() time.Time {
	n := w.progress.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (w *Worker) alive() { w.progress.Store(time.Now().UnixNano()) }

// Backoff is the wait after the n-th failed attempt: 15 s, 30 s, 1 min, …
// up to an hour.
func Backoff(n int) time.Duration {
	d := 15 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (w *Worker) defaults() {
	if w.Clock == nil {
		w.Clock = systemClock{}
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Poll == 0 {
		w.Poll = time.Second
	}
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 20
	}
	if w.Lease == 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Batch == 0 {
		w.Batch = 10
	}
	if w.Drain == 0 {
		w.Drain = 10 * time.Second
	}
	if w.Observer == nil {
		w.Observer = nopObserver{}
	}
	if w.FallbackAfter == 0 {
		w.FallbackAfter = 10 * time.Minute
	}
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Run delivers until ctx ends; the message being sent then has Drain to
// finish, and its outcome is recorded, so that a stop neither cuts a
// delivery short nor sends a message twice for want of its mark.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	hard, kill := context.WithCancel(context.WithoutCancel(ctx))
	defer kill()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.Drain, kill) })
	defer stop()
	for {
		w.alive()
		n, err := w.round(ctx, hard)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("outbox round", "err", err)
		}
		if n > 0 {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.Poll):
		}
	}
}

// Once makes one round over the due messages and returns how many it
// handled (sent or failed).
func (w *Worker) Once(ctx context.Context) (int, error) {
	w.defaults()
	return w.round(ctx, ctx)
}

// round is Once; stop ending stops it between two messages, hard ending
// abandons the message being sent.
func (w *Worker) round(stop, hard context.Context) (int, error) {
	ctx := stop
	var channels []service.Channel
	if w.Mail != nil {
		channels = append(channels, service.ChannelEmail)
	}
	if w.SMS != nil {
		channels = append(channels, service.ChannelSMS)
	}
	claimed := time.Now() // the claim's own clock: monotonic, whatever w.Clock says
	due, err := w.Store.ClaimDue(ctx, w.Clock.Now(), w.Lease, channels, w.Batch)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim due messages: %w", err)
	}
	sendBy := claimed.Add(w.Lease * 3 / 4)
	for i, m := range due {
		if ctx.Err() != nil || !time.Now().Before(sendBy) {
			// Stopped, or too late to start within the claim: the rest are
			// given back, due at once for the next worker (this one after
			// its pause, or another instance, or this one restarted)
			// rather than when the claim runs out.
			ids := make([]int64, 0, len(due)-i)
			for _, m := range due[i:] {
				ids = append(ids, m.ID)
			}
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			err := w.Store.ReleaseClaims(release, ids, w.Clock.Now())
			cancel()
			if err != nil {
				return i, fmt.Errorf("outbox: release claims: %w", err)
			}
			return i, ctx.Err()
		}
		err := w.deliver(hard, sendBy, m)
		w.alive()
		if err != nil {
			return i, err
		}
	}
	n, err := w.fallbacks(ctx, hard, sendBy)
	return len(due) + n, err
}

// fallbacks sends through the fallback gateway the SMS the primary one
// did not deliver, each once: claimed first, so that a failure or a
// crash never sends one twice through either. A failure gives it up
// (state failed, for an agent to retry).
func (w *Worker) fallbacks(ctx, hard context.Context, sendBy time.Time) (int, error) {
	if w.SMSFallback == nil || ctx.Err() != nil {
		return 0, nil
	}
	ms, err := w.Store.ClaimFallback(ctx, w.Clock.Now().Add(-w.FallbackAfter), w.Batch)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim fallbacks: %w", err)
	}
	for _, m := range ms {
		start := time.Now()
		body, err := w.Open(m)
		var id string
		if err == nil {
			sendCtx, cancel := context.WithDeadline(hard, sendBy)
			id, err = w.SMSFallback.Send(sendCtx, m.Recipient, string(body))
			cancel()
		}
		mark, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err == nil {
			w.Log.Info("message sent", "id", m.ID, "channel", m.Channel, "kind", m.Kind, "gateway", FallbackGateway, "gateway_id", id)
			w.Observer.Delivered(m.Channel, w.SMSFallbackRelay, time.Since(start), true)
			err = w.Store.MarkSent(mark, m.ID, w.Clock.Now(), FallbackGateway, id, false)
		} else {
			w.Log.Warn("message not sent", "id", m.ID, "channel", m.Channel, "gateway", FallbackGateway, "err", err)
			w.Observer.Failed(m.Channel, w.SMSFallbackRelay, true)
			err = w.Store.MarkAttempt(mark, m.ID, "fallback: "+err.Error(), w.Clock.Now(), true)
		}
		cancel()
		w.alive()
		if err != nil {
			return 0, err
		}
	}
	return len(ms), nil
}

// deliver sends m, giving up at sendBy, and records the outcome; the
// error is only for a failure to record.
func (w *Worker) deliver(ctx context.Context, sendBy time.Time, m service.Message) error {
	relay := w.MailRelay
	if m.Channel == service.ChannelSMS {
		relay = w.SMSRelay
	}
	start := time.Now()
	body, err := w.Open(m)
	var gatewayID string
	if err == nil {
		sendCtx, cancel := context.WithDeadline(ctx, sendBy)
		switch m.Channel {
		case service.ChannelEmail:
			env := Envelope{From: w.From, To: m.Recipient}
			if w.ReturnPaths != nil {
				env.From, env.ID = w.ReturnPaths.ReturnPath(m.ID)
			}
			err = w.Mail.Send(sendCtx, env, body)
		case service.ChannelSMS:
			gatewayID, err = w.SMS.Send(sendCtx, m.Recipient, string(body))
		default:
			err = fmt.Errorf("unknown channel %q", m.Channel)
		}
		cancel()
	}
	took := time.Since(start)
	now := w.Clock.Now()
	// The outcome is recorded even when the stop came meanwhile: a message
	// sent but not marked would be sent again.
	mark, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		w.Log.Info("message sent", "id", m.ID, "channel", m.Channel, "kind", m.Kind, "gateway_id", gatewayID)
		w.Observer.Delivered(m.Channel, relay, took, false)
		gateway := ""
		if m.Channel == service.ChannelSMS {
			gateway = PrimaryGateway
		}
		keep := m.Channel == service.ChannelSMS && w.SMSFallback != nil
		return w.Store.MarkSent(mark, m.ID, now, gateway, gatewayID, keep)
	}
	attempt := m.Attempts + 1
	final := attempt >= w.MaxAttempts
	w.Log.Warn("message not sent", "id", m.ID, "channel", m.Channel, "attempt", attempt, "final", final, "err", err)
	w.Observer.Failed(m.Channel, relay, final)
	return w.Store.MarkAttempt(mark, m.ID, err.Error(), now.Add(Backoff(attempt)), final)
}
