package server

import (
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// v6 returns an address of the /64 number net, host number host.
func v6(net, host uint64) netip.Addr {
	var b [16]byte
	b[0], b[1] = 0x20, 0x01
	binary.BigEndian.PutUint32(b[4:], uint32(net))
	binary.BigEndian.PutUint64(b[8:], host)
	return netip.AddrFrom16(b)
}

// served counts how many of n requests at now key k gets through.
func served(l *clientLimiter, k netip.Addr, n int, now time.Time) int {
	ok := 0
	for range n {
		if allowed, _ := l.allow(clientKey(k), now); allowed {
			ok++
		}
	}
	return ok
}

// TestLimiterFilledNewClientsOwnRate: 200,000 distinct /64s seen, twice the
// limiter's memory; the clients who come next each get their own bucket
// (burst, then their own rate), not a bucket shared by everyone past the
// memory.
func TestLimiterFilledNewClientsOwnRate(t *testing.T) {
	const burst = 5
	l := newClientLimiter(2, burst, maxClients)
	now := time.Now()
	for i := range 200_000 {
		l.allow(clientKey(v6(uint64(i), 1)), now)
	}
	if n := len(l.clients); n != maxClients || l.recent.Len() != maxClients {
		t.Fatalf("limiter holds %d clients (%d in its list), want at most %d", n, l.recent.Len(), maxClients)
	}
	for i := range 1000 {
		k := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if got := served(l, k, burst+3, now); got != burst {
			t.Fatalf("new client %d after the fill: %d of %d served at once, want its burst %d", i, got, burst+3, burst)
		}
		if got := served(l, k, 3, now.Add(time.Second)); got != 2 {
			t.Fatalf("new client %d, one second later: %d served, want 2 (its own rate)", i, got)
		}
	}
}

// TestLimiterOnePrefixFlood: 150,000 addresses of one /64 count as one
// client: they get one burst between them, and a client of another /64
// is served as if nothing happened.
func TestLimiterOnePrefixFlood(t *testing.T) {
	const burst = 5
	l := newClientLimiter(2, burst, maxClients)
	now := time.Now()
	flood := 0
	for i := range 150_000 {
		flood += served(l, v6(7, uint64(i)), 1, now)
	}
	if flood != burst {
		t.Errorf("flood of 150,000 addresses from one /64: %d served, want %d", flood, burst)
	}
	if got := served(l, v6(8, 1), burst, now); got != burst {
		t.Errorf("client of another /64 during the flood: %d of %d served", got, burst)
	}
	if got := served(l, netip.MustParseAddr("192.0.2.9"), burst, now); got != burst {
		t.Errorf("IPv4 client during the flood: %d of %d served", got, burst)
	}
	if len(l.clients) != 3 {
		t.Errorf("%d clients remembered, want 3", len(l.clients))
	}
}

// TestLimiterConcurrent: 16 goroutines, one client: exactly its burst is
// served, and each goroutine's own client gets its burst; then 16
// goroutines of new clients through a limiter of 4 places: never more
// than 4 remembered, the list and the map agreeing.
func TestLimiterConcurrent(t *testing.T) {
	const burst, workers = 20, 16
	l := newClientLimiter(0.001, burst, 64)
	now := time.Now()
	var shared atomic.Int64
	own := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range 200 {
				shared.Add(int64(served(l, v6(1, uint64(w*1000+i)), 1, now)))
			}
			own[w] = served(l, v6(uint64(100+w), 1), 200, now)
		})
	}
	wg.Wait()
	if shared.Load() != burst {
		t.Errorf("shared /64: %d served, want %d", shared.Load(), burst)
	}
	for w, n := range own {
		if n != burst {
			t.Errorf("worker %d's own client: %d served, want %d", w, n, burst)
		}
	}
	small := newClientLimiter(0.001, burst, 4)
	for w := range workers {
		wg.Go(func() {
			for i := range 2000 {
				served(small, v6(uint64(w*10_000+i), 1), 1, now)
			}
		})
	}
	wg.Wait()
	if len(small.clients) != 4 || small.recent.Len() != 4 {
		t.Errorf("limiter of 4 places holds %d clients, %d in its list", len(small.clients), small.recent.Len())
	}
	for e := small.recent.Front(); e != nil; e = e.Next() {
		if small.clients[e.Value.(*client).key] != e {
			t.Errorf("client %v in the list is not the map's", e.Value.(*client).key)
		}
	}
}

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"192.0.2.1:443", nil, nil, "192.0.2.1"},
		{"192.0.2.1:443", []string{"198.51.100.7"}, nil, "192.0.2.1"},     // spoofed, no proxy trusted
		{"192.0.2.1:443", []string{"198.51.100.7"}, proxies, "192.0.2.1"}, // spoofed, peer not trusted
		{"10.0.0.5:443", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"10.0.0.5:443", []string{"6.6.6.6, 198.51.100.7"}, proxies, "198.51.100.7"}, // the client wrote 6.6.6.6
		{"10.0.0.5:443", []string{"6.6.6.6", "198.51.100.7, 10.0.0.9"}, proxies, "198.51.100.7"},
		{"10.0.0.5:443", []string{"junk, 10.0.0.9"}, proxies, "10.0.0.9"},
		{"10.0.0.5:443", nil, proxies, "10.0.0.5"},
		{"[fd00::1]:443", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
		{"[::ffff:10.0.0.5]:443", []string{"::ffff:198.51.100.7"}, proxies, "198.51.100.7"},
		{"pipe", nil, nil, "invalid IP"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		for _, h := range tc.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := clientAddr(r, tc.trusted).String(); got != tc.want {
			t.Errorf("%s, X-Forwarded-For %q, trusted %v: %s, want %s", tc.remote, tc.xff, tc.trusted, got, tc.want)
		}
	}
}

// TestSpoofedForwardedForIgnored, through the handler: without
// TrustedProxies, a new X-Forwarded-For on every request buys nothing;
// with the peer trusted, the clients behind it have a bucket each.
func TestSpoofedForwardedForIgnored(t *testing.T) {
	const burst = 3
	limited := func(opt Options, xff func(i int) string) int {
		opt.PerClient, opt.Burst = 0.01, burst
		h := New(nil, opt)
		n := 0
		for i := range 10 {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/no-such-route", nil)
			r.RemoteAddr = "10.0.0.5:1234"
			r.Header.Set("X-Forwarded-For", xff(i))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code == http.StatusTooManyRequests {
				n++
			}
		}
		return n
	}
	rotating := func(i int) string { return netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String() }
	if n := limited(Options{}, rotating); n != 10-burst {
		t.Errorf("spoofed X-Forwarded-For, no trusted proxy: %d of 10 limited, want %d", n, 10-burst)
	}
	if n := limited(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, rotating); n != 0 {
		t.Errorf("10 clients behind a trusted proxy: %d limited, want 0", n)
	}
	spoofLeft := func(i int) string { return rotating(i) + ", 203.0.113.4" }
	if n := limited(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, spoofLeft); n != 10-burst {
		t.Errorf("one client behind a trusted proxy, spoofing hops to its left: %d of 10 limited, want %d", n, 10-burst)
	}
}

// BenchmarkLimiterSeen: a request from a client already remembered.
func BenchmarkLimiterSeen(b *testing.B) {
	l := newClientLimiter(1e9, 1<<30, maxClients)
	now := time.Now()
	for i := range 1000 {
		l.allow(clientKey(v6(uint64(i), 1)), now)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := uint64(0)
		for pb.Next() {
			l.allow(clientKey(v6(i%1000, i)), now)
			i++
		}
	})
}

// BenchmarkLimiterFlood: every request from a new /64, the limiter full:
// each one forgets the least recently seen.
func BenchmarkLimiterFlood(b *testing.B) {
	l := newClientLimiter(2, 20, maxClients)
	now := time.Now()
	for i := range maxClients {
		l.allow(clientKey(v6(uint64(i), 1)), now)
	}
	b.ReportAllocs()
	i := uint64(maxClients)
	for b.Loop() {
		l.allow(clientKey(v6(i, 1)), now)
		i++
	}
}
