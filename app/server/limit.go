package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the limiter's memory; past it, the oldest-idle
// clients are forgotten first by the janitor, and new ones share one
// overflow bucket meanwhile.
const maxClients = 100_000

// clientLimiter is a token bucket per client address.
type clientLimiter struct {
	mu       sync.Mutex
	perSec   rate.Limit
	burst    int
	clients  map[string]*client
	overflow *rate.Limiter
	done     chan struct{}
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newClientLimiter(perSec float64, burst int) *clientLimiter {
	l := &clientLimiter{perSec: rate.Limit(perSec), burst: burst, clients: map[string]*client{},
		overflow: rate.NewLimiter(rate.Limit(perSec), burst), done: make(chan struct{})}
	go l.janitor()
	return l
}

// allow reports whether addr may make a request now, and if not, how long
// until it may.
func (l *clientLimiter) allow(addr string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	c, ok := l.clients[addr]
	var lim *rate.Limiter
	switch {
	case ok:
		c.seen = now
		lim = c.lim
	case len(l.clients) < maxClients:
		c = &client{lim: rate.NewLimiter(l.perSec, l.burst), seen: now}
		l.clients[addr] = c
		lim = c.lim
	default:
		lim = l.overflow
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// janitor forgets clients idle long enough for their bucket to be full.
func (l *clientLimiter) janitor() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case now := <-t.C:
			idle := time.Duration(float64(l.burst)/float64(l.perSec)*float64(time.Second)) + time.Minute
			l.mu.Lock()
			for addr, c := range l.clients {
				if now.Sub(c.seen) > idle {
					delete(l.clients, addr)
				}
			}
			l.mu.Unlock()
		}
	}
}

func (l *clientLimiter) close() { close(l.done) }
