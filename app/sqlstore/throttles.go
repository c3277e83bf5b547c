package sqlstore

import (
	"fmt"
	"time"
)

// ReserveThrottled makes key's row if needed (a concurrent insert of the
// same key waits, then does nothing), then reserves as ReserveAttempt.
func (t *Tx) ReserveThrottled(key []byte, now time.Time, max int, window time.Duration) (int, time.Time, error) {
	if err := t.exec(`INSERT INTO throttles (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, key); err != nil {
		return 0, time.Time{}, fmt.Errorf("throttle: %w", err)
	}
	return t.reserve("throttles", "key", key, now, max, window)
}

func (t *Tx) ThrottleFailed(key []byte, n, max int, now time.Time, base, maxBlock time.Duration) (time.Time, error) {
	if n < max {
		return time.Time{}, nil
	}
	var blocks int
	if err := t.queryRow(`UPDATE throttles SET blocks = blocks + 1 WHERE key = $1 RETURNING blocks`, key).
		Scan(&blocks); err != nil {
		return time.Time{}, fmt.Errorf("throttle: %w", notFound(err))
	}
	d := base
	for i := 1; i < blocks && d < maxBlock; i++ {
		d *= 2
	}
	until := now.Add(min(d, maxBlock))
	return until, t.exec(`UPDATE throttles SET locked_until = $1, attempts_until = $1 WHERE key = $2`, nanos(until), key)
}

func (t *Tx) ReleaseThrottled(key []byte) error {
	return t.exec(`UPDATE throttles SET failed_attempts = CASE WHEN failed_attempts > 0 THEN failed_attempts - 1 ELSE 0 END WHERE key = $1`, key)
}

func (t *Tx) ThrottleSucceeded(key []byte) error {
	return t.exec(`DELETE FROM throttles WHERE key = $1`, key)
}
