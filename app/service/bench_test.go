package service_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
)

const benchVoters = 200_000

// benchEnv returns an env whose database holds the demo roll plus
// benchVoters voters, numbered from 10000000, all with marie's password.
// Their password hash is copied from hers: hashing 200,000 passwords would
// take hours and measure nothing the benchmarks look at.
func benchEnv(b *testing.B) *env {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	// testConfig has no request floor: the benchmarks measure the work.
	e := &env{ctx: context.Background(), db: db, path: path, cfg: testConfig(), clock: servicetest.NewClock(servicetest.Start)}
	svc, err := service.New(db, e.cfg, service.Options{Clock: e.clock, CodeRand: servicetest.Sevens{}})
	if err != nil {
		b.Fatal(err)
	}
	e.svc = svc
	if err := svc.Operator.SeedDemoRoll(e.ctx); err != nil {
		b.Fatal(err)
	}
	err = db.Update(e.ctx, func(tx service.Tx) error {
		m, err := tx.VoterByNUMIC(marie.NUMIC)
		if err != nil {
			return err
		}
		for i := range benchVoters {
			if _, err := tx.InsertVoter(service.Voter{NUMIC: benchNUMIC(i), Email: benchEmail(i), Lang: "fr",
				LastName: "VOTANT", FirstNames: "Test", PasswordHash: m.PasswordHash}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchNUMIC(i int) string { return fmt.Sprintf("%08d", 10_000_000+i) }
func benchEmail(i int) string { return fmt.Sprintf("votant%d@example.org", i) }

// codes makes n security codes ahead, so that drawing them is not timed.
func (e *env) codes(b *testing.B, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		c, err := e.svc.Portal.NewSecurityCode(e.ctx)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = c.ID
	}
	return ids
}

// reportMedian adds the median of the per-operation times to the output.
func reportMedian(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
}

func benchmarkRequest(b *testing.B, match bool) {
	e := benchEnv(b)
	codes := e.codes(b, b.N)
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		v := (i * 7919) % benchVoters // spread over the roll, under the rate limit
		email := benchEmail(v)
		if !match {
			email = "inconnu@example.org"
		}
		start := time.Now()
		err := e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
			NUMIC: benchNUMIC(v), Email: email, CodeID: codes[i], Code: rightCode})
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportMedian(b, times)
}

// BenchmarkRequest is a matching renewal request on a 200,000-voter roll:
// code check, rate limit, lookup, token, e-mail composed, sealed and queued.
func BenchmarkRequest(b *testing.B) { benchmarkRequest(b, true) }

// BenchmarkRequestNoMatch is the same request with the wrong e-mail: it
// must cost about what a match costs.
func BenchmarkRequestNoMatch(b *testing.B) { benchmarkRequest(b, false) }

// BenchmarkConfirm confirms a fresh link each time; the request that makes
// the link is not timed.
func BenchmarkConfirm(b *testing.B) {
	e := benchEnv(b)
	codes := e.codes(b, 2*b.N)
	times := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		v := (i * 7919) % benchVoters
		if err := e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
			NUMIC: benchNUMIC(v), Email: benchEmail(v), CodeID: codes[2*i], Code: rightCode}); err != nil {
			b.Fatal(err)
		}
		link := e.newestLink(b)
		b.StartTimer()
		start := time.Now()
		_, err := e.svc.Portal.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
			Link: link, Password: marie.Password, CodeID: codes[2*i+1], Code: rightCode})
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportMedian(b, times)
}

func (e *env) newestLink(b *testing.B) string {
	ms := servicetest.Outbox(b, e.svc, e.db, 1)
	if len(ms) != 1 {
		b.Fatalf("%d messages, want 1", len(ms))
	}
	text, _ := mailParts(b, ms[0].Raw)
	link := linkRE.FindString(text)
	if link == "" {
		b.Fatal("no link in the newest message")
	}
	return link
}

// BenchmarkArgon2 is one bare argon2id hash with the configured
// parameters: the floor under Confirm.
func BenchmarkArgon2(b *testing.B) {
	p := service.DefaultConfig().Argon2
	salt := make([]byte, 16)
	b.ReportAllocs()
	for b.Loop() {
		argon2.IDKey([]byte(marie.Password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	}
}

// BenchmarkVoterLookup is the desk's search on a roll of 2,000,000
// voters (CONSULVOTE_LOOKUP_VOTERS to change it): by NUMIC and by e-mail.
func BenchmarkVoterLookup(b *testing.B) {
	n := 2_000_000
	if v, err := strconv.Atoi(os.Getenv("CONSULVOTE_LOOKUP_VOTERS")); err == nil {
		n = v
	}
	e := servicetest.New(b, servicetest.Config(), service.Options{})
	err := e.DB.Update(context.Background(), func(tx service.Tx) error {
		for i := range n {
			if _, err := tx.InsertVoter(service.Voter{NUMIC: fmt.Sprintf("%08d", 10_000_000+i),
				Email: fmt.Sprintf("votant%d@example.org", i), Lang: "fr", LastName: "NOM", FirstNames: "Prénom"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Service.Operator.AddAgent(context.Background(), "bench", "agent", "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		b.Fatal(err)
	}
	sess, err := e.Service.Office.AgentLogin(context.Background(), "bench", "correct horse battery", "")
	if err != nil {
		b.Fatal(err)
	}
	for _, by := range []string{"numic", "email"} {
		b.Run(by, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				v := (i * 7919) % n
				q := fmt.Sprintf("%08d", 10_000_000+v)
				if by == "email" {
					q = fmt.Sprintf("votant%d@example.org", v)
				}
				start := time.Now()
				vs, err := e.Service.Office.FindVoters(context.Background(), sess.Token, q)
				times = append(times, time.Since(start))
				if err != nil || len(vs) != 1 {
					b.Fatalf("%s: %d voters, %v", q, len(vs), err)
				}
			}
			reportMedian(b, times)
		})
	}
}

// BenchmarkLoginConcurrent is b.N logins with unknown identifiers (each an
// argon2id check of the dummy hash) from 16, 64 and 150 goroutines at
// once, on the default hashing pool. Reported: logins evaluated per
// second, the ideal of cores ÷ one bare hash's time measured just
// before, and the logins refused at once because the queue was full.
func BenchmarkLoginConcurrent(b *testing.B) {
	e := servicetest.New(b, servicetest.Config(), service.Options{})
	p := service.DefaultConfig().Argon2
	salt := make([]byte, 16)
	for _, conc := range []int{16, 64, 150} {
		b.Run(fmt.Sprintf("c%d", conc), func(b *testing.B) {
			t0 := time.Now()
			for range 5 {
				argon2.IDKey([]byte("x"), salt, p.Time, p.MemoryKiB, p.Threads, 32)
			}
			hash := time.Since(t0) / 5
			before := e.Service.Operator.HashStats()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for g := range conc {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						_, err := e.Service.Portal.Login(context.Background(), fmt.Sprintf("inconnu%d-%d", g, i), "mauvais")
						if err != nil && !errors.Is(err, portal.ErrBadLogin) && !errors.Is(err, portal.ErrUnavailable) {
							b.Error(err)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			st := e.Service.Operator.HashStats()
			b.ReportMetric(float64(st.Done-before.Done)/elapsed.Seconds(), "logins/s")
			b.ReportMetric(float64(runtime.NumCPU())/hash.Seconds(), "ideal/s")
			b.ReportMetric(float64(st.Refused-before.Refused), "refused")
		})
	}
}
