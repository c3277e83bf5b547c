// Package loadtest drives a server on loopback under a bounded load for
// the benchmarks of make load (app/server, app/metrics): b.N requests from
// concurrent clients, the rate, the latency percentiles and the CPU time
// per request reported.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// Body is v in JSON.
func Body(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Run sends b.N POSTs to url from conc goroutines and reports the rate
// and the latency percentiles.
func Run(b *testing.B, conc int, url string, want int, bodyFor func(i int) []byte) {
	RunFrom(b, conc, false, url, want, bodyFor)
}

// RunFrom is Run; with own, each goroutine comes from its own loopback
// address and, when limited (429), waits Retry-After and sends again.
func RunFrom(b *testing.B, conc int, own bool, url string, want int, bodyFor func(i int) []byte) {
	run(b, conc, own, []string{url}, want, bodyFor)
}

// RunAcross is Run over several servers: request i goes to
// urls[i % len(urls)], as a round-robin load balancer deals them. The
// meters measure what this process does not (the database), over the
// timed part.
func RunAcross(b *testing.B, conc int, urls []string, want int, bodyFor func(i int) []byte, meters ...Meter) {
	run(b, conc, false, urls, want, bodyFor, meters...)
}

// Meter measures, over a run, a cost outside this process.
type Meter interface {
	Start(b *testing.B)
	// Stop reports the metrics per request of the n requests made.
	Stop(b *testing.B, n int)
}

// post sends body to url and checks the status; into, when not nil,
// receives the JSON answer.
func post(c *http.Client, url string, body []byte, want int, into any) error {
	resp, err := c.Post(url, api.ContentType, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	if into == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

func run(b *testing.B, conc int, own bool, urls []string, want int, bodyFor func(i int) []byte, meters ...Meter) {
	clients := clientsFor(conc, own)
	var limited atomic.Int64
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = bodyFor(i)
	}
	lat := make([]time.Duration, b.N)
	var idx atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, m := range meters {
		m.Start(b)
	}
	start, cpu := time.Now(), cpuTime()
	for g := range conc {
		client := clients[g]
		wg.Go(func() {
			for {
				i := int(idx.Add(1)) - 1
				if i >= b.N {
					return
				}
			again:
				t0 := time.Now()
				resp, err := client.Post(urls[i%len(urls)], api.ContentType, bytes.NewReader(bodies[i]))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if own && resp.StatusCode == http.StatusTooManyRequests {
					limited.Add(1)
					wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
					time.Sleep(time.Duration(max(wait, 1)) * time.Second)
					goto again
				}
				lat[i] = time.Since(t0)
				if resp.StatusCode != want {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpuUsed := time.Since(start), cpuTime()-cpu
	for _, m := range meters {
		m.Stop(b, b.N)
	}
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	report(b, lat, elapsed, cpuUsed)
	if own {
		b.ReportMetric(float64(limited.Load()), "limited-429")
	}
}

// clientsFor returns conc clients: one shared, or with own each its own
// loopback address (127.0.x.y), so that each is a source of its own.
func clientsFor(conc int, own bool) []*http.Client {
	clients := make([]*http.Client, conc)
	shared := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	for g := range clients {
		clients[g] = shared
		if own {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte((g+2)/256), byte((g+2)%256))}}
			clients[g] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
		}
	}
	return clients
}

// report gives the run's rate, its CPU per request and its latencies.
func report(b *testing.B, lat []time.Duration, elapsed, cpuUsed time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	// The process's CPU per request, server and clients together: the
	// figure to compare when other programs share the cores.
	b.ReportMetric(float64(cpuUsed.Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// SeedVoters adds n voters numbered from 10000000 (votantI@example.org)
// to e's database: SeedStore.
func SeedVoters(b *testing.B, e *servicetest.Env, n int) { SeedStore(b, e.DB, n) }

// SeedStore adds n voters numbered from 10000000 (votantI@example.org), in
// one transaction, with marie's password hash (hashing 200,000 passwords
// would take hours and measure nothing here).
func SeedStore(b *testing.B, st service.Store, n int) {
	err := st.Update(context.Background(), func(tx service.Tx) error {
		m, err := tx.VoterByNUMIC(service.DemoRoll[0].NUMIC)
		if err != nil {
			return err
		}
		vs := make([]service.Voter, n)
		for i := range vs {
			vs[i] = service.Voter{NUMIC: fmt.Sprintf("%08d", 10_000_000+i),
				Email: fmt.Sprintf("votant%d@example.org", i), Lang: "fr", PasswordHash: m.PasswordHash}
		}
		return tx.InsertVoters(vs)
	})
	if err != nil {
		b.Fatal(err)
	}
}
