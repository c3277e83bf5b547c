package pool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBounded: 200 goroutines at once on 3 workers and a queue of 5: never
// more than 3 run together, at most 8 are admitted while the first ones
// hold their workers, the others are refused at once with ErrBusy.
func TestBounded(t *testing.T) {
	p := New(3, 5)
	release := make(chan struct{})
	var running, peak, ran atomic.Int64
	var busy atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			err := p.Do(context.Background(), func() {
				n := running.Add(1)
				for {
					m := peak.Load()
					if n <= m || peak.CompareAndSwap(m, n) {
						break
					}
				}
				<-release
				running.Add(-1)
				ran.Add(1)
			})
			if errors.Is(err, ErrBusy) {
				busy.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	// Refusals come at once, while the admitted calls still wait on release.
	deadline := time.Now().Add(10 * time.Second)
	for busy.Load() < 192 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := busy.Load(); got != 192 {
		t.Fatalf("%d refused while 8 calls hold the pool, want 192", got)
	}
	// What the metrics show: 3 running, 5 waiting, until released.
	for s := p.Stats(); s.Running != 3 || s.Waiting != 5; s = p.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v while the pool is full, want 3 running and 5 waiting", s)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if peak.Load() > 3 {
		t.Errorf("%d ran at once, want at most 3", peak.Load())
	}
	if ran.Load() != 8 {
		t.Errorf("%d ran, want 8", ran.Load())
	}
	if s := p.Stats(); s.Done != 8 || s.Refused != 192 || s.Running != 0 || s.Waiting != 0 {
		t.Errorf("stats %+v, want 8 done, 192 refused, none running or waiting", s)
	}
}

// TestWaitIgnoresQueueButNotWorkers: Wait is never refused, yet shares
// the workers with Do.
func TestWaitIgnoresQueueButNotWorkers(t *testing.T) {
	p := New(1, 0)
	hold := make(chan struct{})
	started := make(chan struct{})
	go p.Do(context.Background(), func() { close(started); <-hold })
	<-started
	if err := p.Do(context.Background(), func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Do on a full pool: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ran := false
	if err := p.Wait(ctx, func() { ran = true }); !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Fatalf("Wait while the worker is held: %v, ran %v; want the deadline, not run", err, ran)
	}
	close(hold)
	if err := p.Wait(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("Wait on a free worker: %v, ran %v", err, ran)
	}
}

// TestAfter: the hook runs after each call on the call's worker, before
// the worker takes another call, and Do returns after it.
func TestAfter(t *testing.T) {
	var running, after, overlap atomic.Int64
	var p *Pool
	p = New(2, 100).After(func() {
		if p.Stats().Running < 1 {
			overlap.Add(1) // the worker was already given back
		}
		after.Add(1)
		running.Add(-1)
	})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := p.Do(context.Background(), func() {
				if running.Add(1) > 2 {
					overlap.Add(1)
				}
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if after.Load() != 50 || overlap.Load() != 0 {
		t.Errorf("after ran %d times for 50 calls, %d times off its worker or beside more than 2 calls", after.Load(), overlap.Load())
	}
}
