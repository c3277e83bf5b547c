package backend

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"consulvote/app/metrics"
	"consulvote/app/outbox"
	"consulvote/app/receipt"
	"consulvote/app/service"
	"consulvote/internal/rss"
)

// BenchmarkIntakeStore: delivery reports per second through the bounce
// intake into the real store (SQLite on a file: a lookup and a
// conditional update each), 64 senders at once, one report per message;
// and the process's peak RSS.
//
//	go test -run '^$' -bench IntakeStore -benchtime 5000x ./app/backend
func BenchmarkIntakeStore(b *testing.B) {
	ctx := context.Background()
	be, err := Open(ctx, Config{Database: filepath.Join(b.TempDir(), "portal.db"), Create: true,
		BounceAddress: "bounce+{ref}@vote.example"})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	ids := sentMessages(b, be, service.ChannelEmail, b.N)
	in := be.Intake()
	in.Rate = rate.Inf
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go in.Serve(l)
	defer in.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			c, err := smtp.Dial(l.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					c.Quit()
					return
				}
				addr, ref := be.Bounces.ReturnPath(ids[i])
				if err := c.SendMail("", []string{addr}, strings.NewReader(report(fmt.Sprintf("v%d@example.org", i), ref))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
	b.StopTimer()
	var refused int
	be.Store.View(ctx, func(tx service.Tx) error {
		c, err := tx.StageCounts()
		refused = c["refused"]
		return err
	})
	if refused != b.N {
		b.Fatalf("%d refused, want %d", refused, b.N)
	}
	if mib := rss.MiB(0); mib > 0 {
		b.ReportMetric(mib, "peak-RSS-MiB")
	}
}

// BenchmarkReceiptsStore: SMS gateways' delivery receipts per second
// over real HTTP into the real store (SQLite on a file), 64 callers at
// once, each receipt sent twice (a gateway retrying); every SMS ends
// delivered once, every replay is answered as the first; and the
// process's peak RSS.
//
//	go test -run '^$' -bench ReceiptsStore -benchtime 10000x ./app/backend
func BenchmarkReceiptsStore(b *testing.B) {
	ctx := context.Background()
	m := metrics.New()
	be, err := Open(ctx, Config{Database: filepath.Join(b.TempDir(), "portal.db"), Create: true,
		SMSReceiptToken: "receipt-token", Observer: m})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	sentMessages(b, be, service.ChannelSMS, b.N)
	ts := httptest.NewServer(be.Receipts())
	defer ts.Close()
	client := ts.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var next atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= 2*int64(b.N) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, ts.URL+receipt.Path+outbox.PrimaryGateway,
					strings.NewReader(fmt.Sprintf(`{"id": "gw-%d", "status": "delivered"}`, i%int64(b.N))))
				req.Header.Set("Authorization", "Bearer receipt-token")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "receipts/s")
	b.StopTimer()
	var delivered int
	be.Store.View(ctx, func(tx service.Tx) error {
		c, err := tx.StageCounts()
		delivered = c["delivered"]
		return err
	})
	got := counts(b, m)
	if bad.Load() != 0 || delivered != b.N || got["consulvote_delivery_total sms delivered"] != float64(b.N) {
		b.Fatalf("%d answered otherwise than 204, %d delivered, %v counted; want 0, %d, %d",
			bad.Load(), delivered, got["consulvote_delivery_total sms delivered"], b.N, b.N)
	}
	if mib := rss.MiB(0); mib > 0 {
		b.ReportMetric(mib, "peak-RSS-MiB")
	}
}

// sentMessages queues n messages of channel and marks them sent, as the
// relay or the gateway took them: e-mails to v0@example.org… with
// Message-Ids <m0@vote.example>…, SMS through the primary gateway as
// gw-0…
func sentMessages(tb testing.TB, be *Backend, channel service.Channel, n int) []int64 {
	ctx := context.Background()
	ids := make([]int64, n)
	err := be.Store.Update(ctx, func(tx service.Tx) (err error) {
		for i := range ids {
			m := service.Message{Channel: channel, Kind: "other", Recipient: fmt.Sprintf("+3361%07d", i), Body: []byte("x"), CreatedAt: time.Now()}
			if channel == service.ChannelEmail {
				m.Recipient, m.MessageID = fmt.Sprintf("v%d@example.org", i), fmt.Sprintf("<m%d@vote.example>", i)
			}
			if ids[i], err = tx.Enqueue(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for i, id := range ids {
		gateway, gatewayID := "", ""
		if channel == service.ChannelSMS {
			gateway, gatewayID = outbox.PrimaryGateway, fmt.Sprintf("gw-%d", i)
		}
		if err := be.Store.MarkSent(ctx, id, time.Now(), gateway, gatewayID, false); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

func report(to, ref string) string {
	return strings.ReplaceAll(`From: MAILER-DAEMON@relay.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example
Original-Envelope-Id: `+ref+`

Final-Recipient: rfc822; `+to+`
Original-Recipient: rfc822;`+to+`
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b--
`, "\n", "\r\n")
}
