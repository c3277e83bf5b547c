package backend

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"consulvote/app/outbox/smtptest"
	"consulvote/app/service/servicetest"
)

// plainRelay is a real SMTP server on 127.0.0.1 that takes AUTH without
// TLS; hold, when set, runs when a client sends DATA.
func plainRelay(t *testing.T, hold func()) *smtptest.Server {
	r := smtptest.Start(t)
	r.Stop()
	r.Plain, r.Hold = true, hold
	r.Start()
	return r
}

// openWithMail opens a new back end whose relay is r, with one voter's
// first credentials queued (an e-mail; the SMS has no gateway).
func openWithMail(t *testing.T, r *smtptest.Server, cfg Config) *Backend {
	t.Helper()
	cfg.Database = filepath.Join(t.TempDir(), "portal.db")
	cfg.Create = true
	cfg.SMTP, cfg.SMTPTLS = "smtp://relay:"+r.Password()+"@"+r.Addr, "none"
	cfg.From = "vote@example.org"
	ctx := context.Background()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var roll strings.Builder
	if _, err := servicetest.WriteRoll(&roll, 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.ImportRoll(ctx, "test", strings.NewReader(roll.String()), nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.Service.Operator.SendFirstCredentials(ctx, "test", "mai", nil); err != nil || rep.Sent != 1 {
		t.Fatalf("campaign: %+v, %v", rep, err)
	}
	return b
}

func emailState(t *testing.T, b *Backend) string {
	t.Helper()
	ms := servicetest.Outbox(t, b.Service, b.Store, 10)
	for _, m := range ms {
		if m.Channel == "email" {
			return m.State
		}
	}
	t.Fatal("no e-mail queued")
	return ""
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReadyOutboxStuck: a worker held in the middle of a delivery for
// longer than OutboxStall makes the back end unready; once the relay
// lets go, it is ready again.
func TestReadyOutboxStuck(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	r := plainRelay(t, func() { held <- struct{}{}; <-release })
	// Long enough that a loaded machine does not take the way to the
	// relay's DATA for a stall.
	b := openWithMail(t, r, Config{OutboxStall: 2 * time.Second})
	defer b.Close()
	defer close(release)
	ctx := context.Background()
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("ready before Start: %v", err)
	}
	b.Start()
	<-held
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("unready at once: %v", err)
	}
	waitFor(t, "the stuck worker should make the back end unready", func() bool {
		err := b.Ready(ctx)
		return err != nil && strings.Contains(err.Error(), "outbox: delivery worker stuck")
	})
	release <- struct{}{}
	waitFor(t, "ready again once the delivery ended", func() bool { return b.Ready(ctx) == nil })
	if got := len(r.Messages()); got != 1 {
		t.Errorf("the relay got %d messages, want 1", got)
	}
}

// TestReadyDatabaseUnreachable: a store that does not answer makes the
// back end unready, and says so.
func TestReadyDatabaseUnreachable(t *testing.T) {
	b, err := Open(context.Background(), Config{Database: filepath.Join(t.TempDir(), "p.db"), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(context.Background()); err != nil {
		t.Fatalf("a fresh back end is not ready: %v", err)
	}
	b.Store.Close()
	if err := b.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "database: unreachable") {
		t.Errorf("Ready on a closed store: %v", err)
	}
}

// TestCloseDrainsTheDelivery: Close in the middle of a delivery lets it
// finish and records it sent (a cut delivery would be lost by the relay
// and sent again later); past Drain it gives up, and the message stays
// queued to be sent again: nothing is lost either way.
func TestCloseDrainsTheDelivery(t *testing.T) {
	t.Run("within drain", func(t *testing.T) {
		held := make(chan struct{}, 1)
		r := plainRelay(t, func() { held <- struct{}{}; time.Sleep(300 * time.Millisecond) })
		b := openWithMail(t, r, Config{Drain: 5 * time.Second})
		b.Start()
		<-held
		b.Stop()
		if got := len(r.Messages()); got != 1 {
			t.Errorf("the relay got %d messages after the stop, want the one in flight", got)
		}
		if st := emailState(t, b); st != "sent" {
			t.Errorf("the message in flight is %s after the stop, want sent", st)
		}
		b.Close()
	})
	t.Run("past drain", func(t *testing.T) {
		held := make(chan struct{}, 1)
		release := make(chan struct{})
		defer close(release)
		r := plainRelay(t, func() { held <- struct{}{}; <-release })
		b := openWithMail(t, r, Config{Drain: 100 * time.Millisecond})
		b.Start()
		<-held
		start := time.Now()
		b.Stop()
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Stop took %v with a 100 ms drain", d)
		}
		if st := emailState(t, b); st != "pending" {
			t.Errorf("the abandoned message is %s, want still pending", st)
		}
		b.Close()
	})
}

// TestReturnPathWired: with a bounce template, the worker gives the
// e-mail a return path signed with the back end's key, which names the
// message.
func TestReturnPathWired(t *testing.T) {
	r := plainRelay(t, nil)
	b := openWithMail(t, r, Config{BounceAddress: "bounce+{ref}@example.org"})
	defer b.Close()
	b.Start()
	waitFor(t, "the e-mail sent", func() bool { return len(r.Messages()) == 1 })
	ms := servicetest.Outbox(t, b.Service, b.Store, 10)
	var id int64
	for _, m := range ms {
		if m.Channel == "email" {
			id = m.ID
		}
	}
	from := r.Messages()[0].From
	if got, err := b.Bounces.Message(from); err != nil || got != id {
		t.Fatalf("return path %q names %d, %v; want message %d", from, got, err, id)
	}
}
