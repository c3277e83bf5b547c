package ui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"
)

// Calls runs the screens' work (a portal call) off the UI goroutine and
// hands its result back on it: the UI goroutine never waits on the
// network, and only it touches the widgets.
type Calls struct {
	// Timeout bounds every call (30 s when zero); a call that runs out
	// ends with context.DeadlineExceeded.
	Timeout time.Duration
	// Post runs a call's result on the UI goroutine: fyne.DoAndWait when
	// nil. The tests replace it with a queue they drain on their own
	// goroutine, because Fyne's test driver would run it on the caller's.
	Post func(func())
	// tasks counts the calls under way, so tests can wait for them.
	tasks sync.WaitGroup
}

// Wait returns once the calls under way have ended (their results may
// still wait in Post's queue).
func (c *Calls) Wait() { c.tasks.Wait() }

// post runs fn on the UI goroutine.
func (c *Calls) post(fn func()) {
	if c.Post == nil {
		fyne.DoAndWait(fn)
		return
	}
	c.Post(fn)
}

// Call runs work off the UI goroutine with c's timeout and hands its
// result to done on the UI goroutine.
func Call[T any](c *Calls, work func(ctx context.Context) (T, error), done func(T, error)) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	CallCtx(c, ctx, func(ctx context.Context) (T, error) { defer cancel(); return work(ctx) }, done)
}

// CallCtx is Call under ctx, for long work the user may cancel.
func CallCtx[T any](c *Calls, ctx context.Context, work func(ctx context.Context) (T, error), done func(T, error)) {
	c.tasks.Add(1)
	go func() {
		defer c.tasks.Done()
		v, err := work(ctx)
		c.post(func() { done(v, err) })
	}()
}

// Progress shows fn's news on the UI goroutine from a call under way,
// between its start and its result.
func (c *Calls) Progress(fn func()) { c.post(fn) }
