package backend

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"consulvote/app/service"
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
	ids := make([]int64, b.N)
	err = be.Store.Update(ctx, func(tx service.Tx) error {
		for i := range ids {
			if ids[i], err = tx.Enqueue(service.Message{Channel: service.ChannelEmail, Kind: "other",
				Recipient: fmt.Sprintf("v%d@example.org", i), Body: []byte("x"), CreatedAt: time.Now(),
				MessageID: fmt.Sprintf("<m%d@vote.example>", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		if err := be.Store.MarkSent(ctx, id, time.Now(), "", "", false); err != nil {
			b.Fatal(err)
		}
	}
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
	if kb := peakRSS(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
	}
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

// peakRSS is the process's high-water resident size in KiB (Linux), or 0.
func peakRSS() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
