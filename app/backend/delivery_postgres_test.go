package backend

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"consulvote/app/metrics"
	"consulvote/app/service"
	"consulvote/internal/pgtest"
)

// TestReportsOnTwoInstances: two instances on one PostgreSQL database,
// each with its bounce intake; a report received by either updates the
// one message, and the same report at both at once changes it once.
func TestReportsOnTwoInstances(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	key := filepath.Join(t.TempDir(), "portal.key")
	var bs [2]*Backend
	var addrs [2]string
	var ms [2]*metrics.Metrics
	for i := range bs {
		ms[i] = metrics.New()
		b, err := Open(ctx, Config{Database: url, KeyFile: key, Create: true, BounceAddress: "bounce+{ref}@vote.example", Observer: ms[i]})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		in := b.Intake()
		in.Rate = rate.Inf
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go in.Serve(l)
		t.Cleanup(func() { in.Close() })
		bs[i], addrs[i] = b, l.Addr().String()
	}
	var ids [3]int64
	err := bs[0].Store.Update(ctx, func(tx service.Tx) (err error) {
		for i := range ids {
			if ids[i], err = tx.Enqueue(service.Message{Channel: service.ChannelEmail, Kind: "other",
				Recipient: "v@example.org", Body: []byte("x"), CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := bs[0].Store.MarkSent(ctx, id, time.Now(), "", "", false); err != nil {
			t.Fatal(err)
		}
	}
	send := func(at string, id int64) error {
		addr, ref := bs[0].Bounces.ReturnPath(id)
		c, err := smtp.Dial(at)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.SendMail("", []string{addr}, strings.NewReader(report("v@example.org", ref)))
	}
	// One report at each instance, for its own message; then one report
	// at both at once, 8 times over.
	if err := send(addrs[1], ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := send(addrs[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := send(addrs[i%2], ids[2]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	refusals := counts(t, ms[:]...)["consulvote_delivery_total email refused"]
	if refusals != 3 {
		t.Errorf("the two instances counted %v refusals, want 3: each message changed once", refusals)
	}
	for _, b := range bs {
		if err := b.Store.View(ctx, func(tx service.Tx) error {
			for _, id := range ids {
				ms, err := tx.Messages(service.MessageFilter{ID: id})
				if err != nil || len(ms) != 1 {
					return fmt.Errorf("message %d: %d found, %v", id, len(ms), err)
				}
				if m := ms[0]; m.Delivery != "refused" || !strings.Contains(m.DeliveryStatus, "5.1.1") {
					t.Errorf("message %d: %q %q", id, m.Delivery, m.DeliveryStatus)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
