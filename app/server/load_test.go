package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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

const loadVoters = 200_000

// BenchmarkLoad measures the server on loopback under a bounded load: b.N
// requests shared by 1, 16 or 64 concurrent clients, for renewal requests
// and for security codes, on a 200,000-voter roll; and, as the yardstick,
// a bare net/http handler that only decodes the JSON. Reported: requests/s
// and p50/p99 latency. The service has no response floor and the server
// no per-client limit here: this is the work itself (BenchmarkLoadProduction
// has both). Run with `make load`.
func BenchmarkLoad(b *testing.B) {
	e := servicetest.New(b, servicetest.Config(), service.Options{})
	seedVoters(b, e)
	h := New(e.Service, Options{PerClient: -1}) // one client address: the per-client limit would measure itself
	b.Cleanup(h.Close)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.IdentifierRenewalRequest
		if err := api.Decode(r.Body, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(bare.Close)

	var next atomic.Int64 // voter counter, across runs: each request a fresh voter
	for _, conc := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("renewal/c%d", conc), func(b *testing.B) {
			codes := make([]string, b.N)
			for i := range codes {
				c, err := e.Service.NewSecurityCode(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				codes[i] = c.ID
			}
			load(b, conc, srv.URL+api.IdentifierRenewals, http.StatusAccepted, func(i int) []byte {
				v := int(next.Add(1)) % loadVoters
				return body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
					Email: fmt.Sprintf("votant%d@example.org", v), CodeID: codes[i], Code: servicetest.Code})
			})
		})
		b.Run(fmt.Sprintf("security-code/c%d", conc), func(b *testing.B) {
			load(b, conc, srv.URL+api.SecurityCodes, http.StatusCreated, func(int) []byte { return []byte("{}") })
		})
		b.Run(fmt.Sprintf("bare-json/c%d", conc), func(b *testing.B) {
			load(b, conc, bare.URL, http.StatusAccepted, func(i int) []byte {
				return body(api.IdentifierRenewalRequest{NUMIC: "10000001", Email: "votant1@example.org", CodeID: "x", Code: "7777"})
			})
		})
	}
}

// BenchmarkLoadProduction is BenchmarkLoad's renewal requests with what
// users get: the 20 ms response floor and the per-client limit (2 per
// second, bursts of 20), each client from its own loopback address
// (127.0.0.2, 127.0.0.3, …) and waiting what Retry-After says when
// limited, as the app does. Reported: accepted requests per second, the
// latency of accepted requests, and how many were limited (429).
func BenchmarkLoadProduction(b *testing.B) {
	cfg := servicetest.Config()
	cfg.RequestFloor = service.DefaultConfig().RequestFloor
	e := servicetest.New(b, cfg, service.Options{})
	seedVoters(b, e)
	h := New(e.Service, Options{})
	b.Cleanup(h.Close)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	b.Cleanup(srv.Close)
	var next atomic.Int64
	for _, conc := range []int{16, 64} {
		b.Run(fmt.Sprintf("renewal/c%d", conc), func(b *testing.B) {
			codes := make([]string, b.N)
			for i := range codes {
				c, err := e.Service.NewSecurityCode(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				codes[i] = c.ID
			}
			loadFrom(b, conc, true, srv.URL+api.IdentifierRenewals, http.StatusAccepted, func(i int) []byte {
				v := int(next.Add(1)) % loadVoters
				return body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
					Email: fmt.Sprintf("votant%d@example.org", v), CodeID: codes[i], Code: servicetest.Code})
			})
		})
	}
}

func body(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// load sends b.N POSTs to url from conc goroutines and reports the rate
// and the latency percentiles.
func load(b *testing.B, conc int, url string, want int, bodyFor func(i int) []byte) {
	loadFrom(b, conc, false, url, want, bodyFor)
}

// loadFrom is load; with own, each goroutine comes from its own loopback
// address and, when limited (429), waits Retry-After and sends again.
func loadFrom(b *testing.B, conc int, own bool, url string, want int, bodyFor func(i int) []byte) {
	clients := make([]*http.Client, conc)
	shared := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	for g := range clients {
		clients[g] = shared
		if own {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte((g+2)/256), byte((g+2)%256))}}
			clients[g] = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
		}
	}
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
	start := time.Now()
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
				resp, err := client.Post(url, api.ContentType, bytes.NewReader(bodies[i]))
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
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if own {
		b.ReportMetric(float64(limited.Load()), "limited-429")
	}
}

// seedVoters adds loadVoters voters numbered from 10000000, in one
// transaction, with marie's password hash (hashing 200,000 passwords
// would take hours and measure nothing here).
func seedVoters(b *testing.B, e *servicetest.Env) {
	err := e.DB.Update(context.Background(), func(tx service.Tx) error {
		m, err := tx.VoterByNUMIC(service.DemoRoll[0].NUMIC)
		if err != nil {
			return err
		}
		for i := range loadVoters {
			if _, err := tx.InsertVoter(service.Voter{NUMIC: fmt.Sprintf("%08d", 10_000_000+i),
				Email: fmt.Sprintf("votant%d@example.org", i), Lang: "fr", PasswordHash: m.PasswordHash}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
