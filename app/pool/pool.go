// Package pool bounds work that costs memory or CPU per request, such as
// a password hash (argon2id takes 19 MiB and tens of milliseconds): a
// fixed number of workers, a bounded queue in front of them, and past the
// queue a refusal that comes at once instead of a pile of waiting work.
package pool

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrBusy means the workers and the queue are full: the caller should
// answer "try again shortly" (HTTP 503 with Retry-After).
var ErrBusy = errors.New("pool: busy")

// Pool runs functions on at most Workers goroutines at a time, with at
// most Queue more waiting. The zero value is not usable: call New.
type Pool struct {
	tickets chan struct{} // one per running or waiting call
	workers chan struct{} // one per running call
	done    atomic.Int64
	refused atomic.Int64
	waiting atomic.Int64 // calls waiting for a worker now
	// after, when set, runs on the worker after each call (New's option).
	after func()
}

// New returns a pool of workers (at least 1) with a queue of queue
// waiting calls (at least 0).
func New(workers, queue int) *Pool {
	workers, queue = max(workers, 1), max(queue, 0)
	return &Pool{tickets: make(chan struct{}, workers+queue), workers: make(chan struct{}, workers)}
}

// Do runs fn on a worker, waiting in the queue if all are busy. When the
// queue is full it returns ErrBusy at once; when ctx ends while waiting,
// ctx's error. fn runs at most once, and Do returns after it.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	select {
	case p.tickets <- struct{}{}:
	default:
		p.refused.Add(1)
		return ErrBusy
	}
	defer func() { <-p.tickets }()
	return p.run(ctx, fn)
}

// Wait runs fn on a worker, waiting as long as it takes (or until ctx
// ends) whatever the queue holds: for batch work, such as a credentials
// campaign, that must share the workers but not be refused.
func (p *Pool) Wait(ctx context.Context, fn func()) error {
	return p.run(ctx, fn)
}

func (p *Pool) run(ctx context.Context, fn func()) error {
	p.waiting.Add(1)
	select {
	case p.workers <- struct{}{}:
		p.waiting.Add(-1)
	case <-ctx.Done():
		p.waiting.Add(-1)
		return ctx.Err()
	}
	defer func() { <-p.workers }()
	fn()
	if p.after != nil {
		p.after()
	}
	p.done.Add(1)
	return nil
}

// After returns p made to run after on the worker after each call,
// before the worker takes another: the app returns a hash's memory to
// the system there. Call it before the pool is used.
func (p *Pool) After(after func()) *Pool {
	p.after = after
	return p
}

// Stats are counts since the pool was made, and what it holds now.
type Stats struct {
	Done    int64 // calls that ran
	Refused int64 // calls refused with ErrBusy
	Running int   // calls running now
	Waiting int   // calls waiting for a worker now (Do's queue and Wait's)
}

// Stats returns the counts so far.
func (p *Pool) Stats() Stats {
	return Stats{Done: p.done.Load(), Refused: p.refused.Load(), Running: len(p.workers), Waiting: int(p.waiting.Load())}
}

// Workers returns how many calls may run at once.
func (p *Pool) Workers() int { return cap(p.workers) }
