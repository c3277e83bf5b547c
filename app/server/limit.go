package server

import (
	"container/list"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the limiter's memory (about 200 bytes a client). Past
// it the least recently seen client is forgotten: it comes back with a
// full bucket, which is what a bucket idle that long holds anyway, so a
// flood of new addresses costs the flood, never the clients being served.
const maxClients = 100_000

// clientLimiter is a token bucket per client, keyed by clientKey.
type clientLimiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	max     int
	recent  list.List // of *client, most recently seen first
	clients map[netip.Addr]*list.Element
}

type client struct {
	key netip.Addr
	lim *rate.Limiter
}

func newClientLimiter(perSec float64, burst, max int) *clientLimiter {
	return &clientLimiter{perSec: rate.Limit(perSec), burst: burst, max: max, clients: make(map[netip.Addr]*list.Element)}
}

// allow reports whether the client key may make a request at now, and if
// not, how long until it may.
func (l *clientLimiter) allow(key netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	e, ok := l.clients[key]
	switch {
	case ok:
		l.recent.MoveToFront(e)
	case l.recent.Len() < l.max:
		e = l.recent.PushFront(&client{})
	default: // the least recently seen makes room
		e = l.recent.Back()
		delete(l.clients, e.Value.(*client).key)
		l.recent.MoveToFront(e)
	}
	c := e.Value.(*client)
	if !ok {
		*c = client{key: key, lim: rate.NewLimiter(l.perSec, l.burst)}
		l.clients[key] = e
	}
	lim := c.lim
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientKey is what one client is counted as: an IPv4 address, or the /64
// of an IPv6 one, since a single subscriber usually holds a whole /64.
func clientKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// clientAddr is the address a request came from: the peer's, or, when
// the peer is a trusted proxy, the right-most address of X-Forwarded-For
// that is not a trusted proxy (the hops to its left are the client's to
// write). The invalid Addr when the peer's address does not parse.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		ap = netip.AddrPortFrom(a, 0)
	}
	addr := ap.Addr().Unmap().WithZone("")
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0 && isTrusted(addr, trusted); i-- {
		list := strings.Split(hops[i], ",")
		for j := len(list) - 1; j >= 0 && isTrusted(addr, trusted); j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(list[j]))
			if err != nil {
				return addr // garbage: the last hop we can vouch for
			}
			addr = hop.Unmap().WithZone("")
		}
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientName is how the service sees the client key: the address, or the
// /64 ("2001:db8::/64"), so that its own limits per source count alike.
func clientName(key netip.Addr) string {
	switch {
	case !key.IsValid():
		return "unknown"
	case key.Is6():
		return netip.PrefixFrom(key, 64).String()
	}
	return key.String()
}
