package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/loadtest"
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
	loadtest.SeedVoters(b, e, loadVoters)
	h := New(e.Service.Portal, Options{PerClient: -1}) // one client address: the per-client limit would measure itself
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
				c, err := e.Service.Portal.NewSecurityCode(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				codes[i] = c.ID
			}
			loadtest.Run(b, conc, srv.URL+api.IdentifierRenewals, http.StatusAccepted, func(i int) []byte {
				v := int(next.Add(1)) % loadVoters
				return loadtest.Body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
					Email: fmt.Sprintf("votant%d@example.org", v), CodeID: codes[i], Code: servicetest.Code})
			})
		})
		b.Run(fmt.Sprintf("security-code/c%d", conc), func(b *testing.B) {
			loadtest.Run(b, conc, srv.URL+api.SecurityCodes, http.StatusCreated, func(int) []byte { return []byte("{}") })
		})
		b.Run(fmt.Sprintf("bare-json/c%d", conc), func(b *testing.B) {
			loadtest.Run(b, conc, bare.URL, http.StatusAccepted, func(i int) []byte {
				return loadtest.Body(api.IdentifierRenewalRequest{NUMIC: "10000001", Email: "votant1@example.org", CodeID: "x", Code: "7777"})
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
	loadtest.SeedVoters(b, e, loadVoters)
	h := New(e.Service.Portal, Options{})
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
				c, err := e.Service.Portal.NewSecurityCode(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				codes[i] = c.ID
			}
			loadtest.RunFrom(b, conc, true, srv.URL+api.IdentifierRenewals, http.StatusAccepted, func(i int) []byte {
				v := int(next.Add(1)) % loadVoters
				return loadtest.Body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
					Email: fmt.Sprintf("votant%d@example.org", v), CodeID: codes[i], Code: servicetest.Code})
			})
		})
	}
}
