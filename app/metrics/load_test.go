package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/metrics"
	"consulvote/app/server"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/loadtest"
)

// BenchmarkLoadMetrics is make load's cost of the metrics: the same
// server on the same 200,000-voter roll, without and with the metrics
// observing the service and every request, side by side in one run, at
// 16 and 64 concurrent clients; and the time of one scrape (with the
// outbox depth read from the database) once the load has filled the
// outbox and the histograms.
func BenchmarkLoadMetrics(b *testing.B) {
	const voters = 200_000
	type rig struct {
		env *servicetest.Env
		url string
	}
	m := metrics.New()
	rigs := map[bool]rig{}
	for _, on := range []bool{false, true} {
		opt := service.Options{}
		srvOpt := server.Options{PerClient: -1}
		if on {
			opt.Observer, srvOpt.Observer = m, m
		}
		e := servicetest.New(b, servicetest.Config(), opt)
		loadtest.SeedVoters(b, e, voters)
		if on {
			m.Watch(e.Service.Operator, nil)
		}
		h := server.New(e.Service.Portal, srvOpt)
		srv := httptest.NewServer(h)
		b.Cleanup(srv.Close)
		rigs[on] = rig{e, srv.URL}
	}
	var next atomic.Int64
	// Off and on alternate, round after round, so that what else runs on
	// the machine weighs on both alike; compare cpu-µs/req first.
	for round := range 3 {
		for _, conc := range []int{16, 64} {
			for _, on := range []bool{false, true} {
				r := rigs[on]
				name := map[bool]string{false: "off", true: "on"}[on]
				b.Run(fmt.Sprintf("renewal/metrics-%s/c%d/round%d", name, conc, round+1), func(b *testing.B) {
					codes := make([]string, b.N)
					for i := range codes {
						c, err := r.env.Service.Portal.NewSecurityCode(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						codes[i] = c.ID
					}
					loadtest.Run(b, conc, r.url+api.IdentifierRenewals, http.StatusAccepted, func(i int) []byte {
						v := int(next.Add(1)) % voters
						return loadtest.Body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
							Email: fmt.Sprintf("votant%d@example.org", v), CodeID: codes[i], Code: servicetest.Code})
					})
				})
				b.Run(fmt.Sprintf("security-code/metrics-%s/c%d/round%d", name, conc, round+1), func(b *testing.B) {
					loadtest.Run(b, conc, r.url+api.SecurityCodes, http.StatusCreated, func(int) []byte { return []byte("{}") })
				})
			}
		}
	}
	b.Run("scrape", func(b *testing.B) {
		h := m.Handler()
		for range b.N {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			if rec.Code != 200 {
				b.Fatalf("scrape: %d", rec.Code)
			}
			io.Copy(io.Discard, rec.Body)
		}
	})
}

// BenchmarkObserveRenewal is the metrics' own work for one renewal
// request, as the observers are called for it: the request's route, status
// and time, its security code checked, its outcome, and its store
// transactions (the code taken, the renewal written).
func BenchmarkObserveRenewal(b *testing.B) {
	m := metrics.New()
	route := "POST " + api.IdentifierRenewals
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.SecurityCode("right")
			m.Transaction("update", 300*time.Microsecond)
			m.Transaction("update", 800*time.Microsecond)
			m.RenewalRequested("identifier", "accepted")
			m.Request(route, 202, 21*time.Millisecond)
		}
	})
}
