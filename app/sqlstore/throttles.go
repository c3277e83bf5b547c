package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReserveThrottled makes key's row if needed (a concurrent insert of the
// same key waits, then does nothing), then reserves in one conditional
// UPDATE ordered by the row lock, as ReserveAttempt does for a voter.
func (t *Tx) ReserveThrottled(key []byte, now time.Time, max int, window time.Duration) (int, time.Time, error) {
	if _, err := t.exec(`INSERT INTO throttles (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, key); err != nil {
		return 0, time.Time{}, fmt.Errorf("throttle: %w", err)
	}
	var n int
	err := t.queryRow(`UPDATE throttles SET
		attempts = CASE WHEN window_until IS NULL OR window_until <= $1 THEN 1 ELSE attempts + 1 END,
		window_until = CASE WHEN window_until IS NULL OR window_until <= $1 THEN $2 ELSE window_until END
		WHERE key = $3 AND (blocked_until IS NULL OR blocked_until <= $1)
		AND (window_until IS NULL OR window_until <= $1 OR attempts < $4)
		RETURNING attempts`, nanos(now), nanos(now.Add(window)), key, max).Scan(&n)
	if err == nil {
		return n, time.Time{}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("throttle: %w", err)
	}
	var blocked sql.NullInt64
	if err := t.queryRow(`SELECT blocked_until FROM throttles WHERE key = $1`, key).Scan(&blocked); err != nil {
		return 0, time.Time{}, fmt.Errorf("throttle: %w", err)
	}
	if b := timeOf(blocked); b.After(now) {
		return 0, b, nil
	}
	return 0, time.Time{}, nil
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
	_, err := t.exec(`UPDATE throttles SET blocked_until = $1, window_until = $1 WHERE key = $2`, nanos(until), key)
	return until, err
}

func (t *Tx) ReleaseThrottled(key []byte) error {
	_, err := t.exec(`UPDATE throttles SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE key = $1`, key)
	return err
}

func (t *Tx) ThrottleSucceeded(key []byte) error {
	_, err := t.exec(`DELETE FROM throttles WHERE key = $1`, key)
	return err
}
