package storetest

import (
	"context"
	"testing"
	"time"

	"consulvote/app/service"
)

// testThrottles: a key gets max attempts per window, a block at the
// window's last failure that doubles with each block, and a success
// forgets it.
func testThrottles(t *testing.T, st Store) {
	key := []byte("agent\x00paul\x00192.0.2.1")
	reserve := func(at time.Time) (n int, until time.Time) {
		t.Helper()
		update(t, st, func(tx service.Tx) (err error) {
			n, until, err = tx.ReserveThrottled(key, at, 3, time.Hour)
			return err
		})
		return n, until
	}
	fail := func(n int, at time.Time) (until time.Time) {
		t.Helper()
		update(t, st, func(tx service.Tx) (err error) {
			until, err = tx.ThrottleFailed(key, n, 3, at, time.Minute, 10*time.Minute)
			return err
		})
		return until
	}
	at := t0
	for block, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute} {
		for i := 1; i <= 3; i++ {
			n, _ := reserve(at)
			if n != i {
				t.Fatalf("block %d: reservation %d numbered %d", block, i, n)
			}
			if until := fail(n, at); (i < 3) != until.IsZero() || (i == 3 && !until.Equal(at.Add(want))) {
				t.Fatalf("block %d, failure %d: blocked until %v, want %v", block, i, until, at.Add(want))
			}
		}
		if n, until := reserve(at.Add(want - time.Nanosecond)); n != 0 || !until.Equal(at.Add(want)) {
			t.Fatalf("block %d: reservation while blocked: %d until %v", block, n, until)
		}
		at = at.Add(want)
	}
	update(t, st, func(tx service.Tx) error { return tx.ThrottleSucceeded(key) })
	n, _ := reserve(at)
	if until := fail(n, at); !until.IsZero() {
		t.Errorf("after a success the first failure blocked until %v", until)
	}
	n, _ = reserve(at)
	update(t, st, func(tx service.Tx) error { return tx.ReleaseThrottled(key) })
	if n2, _ := reserve(at); n2 != n {
		t.Errorf("after a release: attempt %d, want %d again", n2, n)
	}
}

// testThrottlesConcurrent: of many concurrent reservations of one key,
// max succeed.
func testThrottlesConcurrent(t *testing.T, st Store) {
	other := []byte("other")
	const c, max = 32, 4
	got := make(chan int, c)
	concurrently(t, c, func() (bool, error) {
		return false, st.Update(context.Background(), func(tx service.Tx) error {
			n, _, err := tx.ReserveThrottled(other, t0, max, time.Hour)
			got <- n
			return err
		})
	})
	close(got)
	reserved := 0
	for n := range got {
		if n != 0 {
			reserved++
		}
	}
	if reserved != max {
		t.Errorf("%d of %d concurrent reservations succeeded, want %d", reserved, c, max)
	}
}
