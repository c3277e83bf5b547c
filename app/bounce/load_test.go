package bounce

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"consulvote/internal/rss"
)

// flood sends n reports for message 7 from senders connections at once,
// each connection a relay sending its reports one after the other; it
// returns the first error.
func flood(t testing.TB, f *fixture, senders, n int) error {
	addr, ref := f.path(7)
	report := dsn("marie@example.org", ref, "failed", "5.1.1", "550 5.1.1 User unknown", "<aaaa@vote.example>", addr)
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		count := n / senders
		if s < n%senders {
			count++
		}
		wg.Go(func() {
			c, err := smtp.Dial(f.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range count {
				if err := c.SendMail("", []string{addr}, strings.NewReader(report)); err != nil {
					errs <- err
					return
				}
			}
			c.Quit()
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestIntakeConcurrentSenders: 64 relays at once, every report taken and
// recorded once, counted once.
func TestIntakeConcurrentSenders(t *testing.T) {
	f := start(t, nil)
	if err := flood(t, f, 64, 640); err != nil {
		t.Fatal(err)
	}
	if got, n := len(f.rec.deliveries()), f.count.get(Recorded); got != 640 || n != 640 {
		t.Fatalf("%d recorded, %d counted; want 640", got, n)
	}
}

// BenchmarkIntake: reports per second through the SMTP intake with 64
// senders at once (loopback, parse and match included; the recorder is
// in memory), and the process's peak RSS.
//
//	go test -run '^$' -bench Intake -benchtime 20000x ./app/bounce
func BenchmarkIntake(b *testing.B) {
	f := start(b, nil)
	b.ResetTimer()
	start := time.Now()
	if err := flood(b, f, 64, b.N); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
	if mib := rss.MiB(0); mib > 0 {
		b.ReportMetric(mib, "peak-RSS-MiB")
	}
}
