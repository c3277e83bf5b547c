package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/loadtest"
)

// ksD is the two-sample Kolmogorov–Smirnov statistic: the largest gap
// between the empirical distribution functions of a and b.
func ksD(a, b []float64) float64 {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	var d float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// ksCritical is the critical value of ksD at level alpha for samples of n
// and m (the asymptotic formula, good from a few dozen each).
func ksCritical(alpha float64, n, m int) float64 {
	c := math.Sqrt(-math.Log(alpha/2) / 2)
	return c * math.Sqrt(float64(n+m)/float64(n*m))
}

func TestKS(t *testing.T) {
	same := []float64{1, 2, 3, 4, 5}
	if d := ksD(same, same); d != 0 {
		t.Errorf("D of a sample with itself = %v", d)
	}
	if d := ksD([]float64{1, 2, 3}, []float64{4, 5, 6}); d != 1 {
		t.Errorf("D of disjoint samples = %v", d)
	}
	// By hand: the CDFs are 1/4 apart at x in [2,3) and [4,5).
	if d := ksD([]float64{1, 2, 4, 5}, []float64{1, 3, 4, 6}); math.Abs(d-0.25) > 1e-12 {
		t.Errorf("D = %v, want 0.25", d)
	}
	// The 1 % critical value at 300 against 300 (the figure).
	if c := ksCritical(0.01, 300, 300); math.Abs(c-0.133) > 0.001 {
		t.Errorf("critical value %v, want 0.133", c)
	}
}

// timingClass is one kind of request whose answer time must not tell it
// from the others.
type timingClass struct {
	name string
	path string
	body func(i int, code string) any
	want int
}

// timingTarget is what a timing benchmark sends its requests to: one or
// more instances behind one address, the requests dealt to them in turn,
// and their clock.
type timingTarget struct {
	svcs  []*service.Service
	clock *servicetest.Clock
}

// timingTargets runs bench on SQLite and on PostgreSQL with two instances,
// each with cfg and the demonstration roll.
func timingTargets(b *testing.B, cfg service.Config, bench func(b *testing.B, t timingTarget)) {
	b.Run("sqlite", func(b *testing.B) {
		e := servicetest.New(b, cfg, service.Options{})
		bench(b, timingTarget{[]*service.Service{e.Service}, e.Clock})
	})
	b.Run("postgres-2", func(b *testing.B) {
		svcs, _, clock := pgInstances(b, 2, cfg, 0, nil)
		bench(b, timingTarget{svcs, clock})
	})
}

// roundRobin deals requests to its handlers in turn, as a load balancer.
type roundRobin struct {
	hs   []http.Handler
	next atomic.Uint64
}

func (r *roundRobin) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.hs[r.next.Add(1)%uint64(len(r.hs))].ServeHTTP(w, req)
}

// measureClasses sends n requests of each class, interleaved, from one
// client, to the target with the production floor (20 ms), and returns the
// answer times in milliseconds. The service's clock moves past the
// per-NUMIC limit between rounds, so that every request takes its class's
// path rather than the limit's.
func measureClasses(b *testing.B, target timingTarget, classes []timingClass, n int) map[string][]float64 {
	rr := &roundRobin{}
	for _, svc := range target.svcs {
		rr.hs = append(rr.hs, New(svc.Portal, Options{PerClient: -1}))
	}
	ts := httptest.NewServer(rr)
	b.Cleanup(ts.Close)
	client := &http.Client{Timeout: 30 * time.Second}
	out := map[string][]float64{}
	for i := range n {
		for _, c := range classes {
			target.clock.Advance(61 * time.Minute)
			code, err := target.svcs[0].Portal.NewSecurityCode(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			req := loadtest.Body(c.body(i, code.ID))
			t0 := time.Now()
			resp, err := client.Post(ts.URL+c.path, api.ContentType, bytes.NewReader(req))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d := time.Since(t0)
			if resp.StatusCode != c.want {
				b.Fatalf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
			}
			out[c.name] = append(out[c.name], float64(d.Microseconds())/1000)
		}
		// Rotate the order so that no class always follows another.
		classes = append(classes[1:], classes[0])
	}
	return out
}

// reportKS compares every class with the first one and reports D and the
// 1 % critical value; D at or above it fails the benchmark.
func reportKS(b *testing.B, classes []timingClass, times map[string][]float64) {
	ref := times[classes[0].name]
	for _, c := range classes {
		ts := slices.Clone(times[c.name])
		slices.Sort(ts)
		b.ReportMetric(ts[len(ts)/2], "p50-ms-"+c.name)
	}
	for _, c := range classes[1:] {
		d := ksD(ref, times[c.name])
		crit := ksCritical(0.01, len(ref), len(times[c.name]))
		b.ReportMetric(d, "D-"+c.name)
		if d >= crit {
			b.Errorf("%s against %s: D = %.3f, at or above the 1 %% critical value %.3f: the timing tells them apart",
				c.name, classes[0].name, d, crit)
		}
	}
	b.ReportMetric(ksCritical(0.01, len(ref), len(ref)), "D-critical-1%")
}

// BenchmarkTimingIdentifier: identifier requests for a matching NUMIC and
// e-mail, a wrong e-mail and an unknown NUMIC, 300 each (TIMING_N),
// interleaved, answered with the production floor of 20 ms, on SQLite and
// on PostgreSQL with two instances behind one address; the
// two-sample Kolmogorov–Smirnov test must not tell the classes apart at
// 1 %. Run with `make timing`.
func BenchmarkTimingIdentifier(b *testing.B) {
	cfg := servicetest.Config()
	cfg.RequestFloor = service.DefaultConfig().RequestFloor
	m := service.DemoRoll[0]
	classes := []timingClass{
		{"match", api.IdentifierRenewals, func(i int, code string) any {
			return api.IdentifierRenewalRequest{NUMIC: m.NUMIC, Email: m.Email, CodeID: code, Code: servicetest.Code}
		}, http.StatusAccepted},
		{"wrong-email", api.IdentifierRenewals, func(i int, code string) any {
			return api.IdentifierRenewalRequest{NUMIC: m.NUMIC, Email: "autre@example.org", CodeID: code, Code: servicetest.Code}
		}, http.StatusAccepted},
		{"unknown-numic", api.IdentifierRenewals, func(i int, code string) any {
			return api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("9%07d", i), Email: m.Email, CodeID: code, Code: servicetest.Code}
		}, http.StatusAccepted},
	}
	timingTargets(b, cfg, func(b *testing.B, target timingTarget) {
		for b.Loop() {
			reportKS(b, classes, measureClasses(b, target, classes, timingN()))
		}
	})
}

// BenchmarkTimingPassword: the same for password requests: identifier and
// NUMIC matching, a known identifier with a wrong NUMIC, an unknown
// identifier.
func BenchmarkTimingPassword(b *testing.B) {
	cfg := servicetest.Config()
	cfg.RequestFloor = service.DefaultConfig().RequestFloor
	m := service.DemoRoll[1] // not marie: the identifier benchmark may share the roll's habits
	classes := []timingClass{
		{"match", api.PasswordRenewals, func(i int, code string) any {
			return api.PasswordRenewalRequest{Identifier: m.Identifier, NUMIC: m.NUMIC, CodeID: code, Code: servicetest.Code}
		}, http.StatusAccepted},
		{"wrong-numic", api.PasswordRenewals, func(i int, code string) any {
			return api.PasswordRenewalRequest{Identifier: m.Identifier, NUMIC: "99999999", CodeID: code, Code: servicetest.Code}
		}, http.StatusAccepted},
		{"unknown-identifier", api.PasswordRenewals, func(i int, code string) any {
			return api.PasswordRenewalRequest{Identifier: fmt.Sprintf("Inconnu%05d", i), NUMIC: m.NUMIC, CodeID: code, Code: servicetest.Code}
		}, http.StatusAccepted},
	}
	timingTargets(b, cfg, func(b *testing.B, target timingTarget) {
		for b.Loop() {
			reportKS(b, classes, measureClasses(b, target, classes, timingN()))
		}
	})
}

// timingN is the sample size per class: 300, or TIMING_N.
func timingN() int {
	if n, err := strconv.Atoi(os.Getenv("TIMING_N")); err == nil && n >= 10 {
		return n
	}
	return 300
}
