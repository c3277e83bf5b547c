package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// SpendSecurityCode inserts or fails on the primary key: of concurrent
// spenders of one code, here or on another instance, one inserts and the
// others find its row (PostgreSQL: after waiting for its transaction, and
// inserting after all if that one rolled back).
func (t *Tx) SpendSecurityCode(key []byte, expires time.Time) (bool, error) {
	return t.changed(`INSERT INTO spent_codes (id_hash, expires_at) VALUES ($1, $2) ON CONFLICT (id_hash) DO NOTHING`,
		key, nanos(expires))
}

func (t *Tx) SecurityCodeSpent(key []byte) (bool, error) {
	var n int
	err := t.queryRow(`SELECT COUNT(*) FROM spent_codes WHERE id_hash = $1`, key).Scan(&n)
	return n > 0, err
}

// RateEvents, in a write transaction, first locks the keys' rows, in the
// order given and in one statement (lockRates): the caller counts and
// then adds, and two instances must not both count below the limit. The
// times kept are remembered for AddRateEvent, which writes the row back.
func (t *Tx) RateEvents(since time.Time, keys ...[]byte) ([][]time.Time, error) {
	if err := t.lockRates(keys); err != nil {
		return nil, err
	}
	out := make([][]time.Time, len(keys))
	for i, key := range keys {
		times, err := t.rateTimes(key)
		if err != nil {
			return nil, err
		}
		kept := times[:0]
		for _, at := range times {
			if at > since.UnixNano() {
				kept = append(kept, at)
				out[i] = append(out[i], time.Unix(0, at))
			}
		}
		if t.write {
			t.rates[string(key)] = kept
		}
	}
	return out, nil
}

// lockRates, in a write transaction, locks the rows of the keys this
// transaction has not read yet, and remembers their times. An upsert: a
// key counted for the first time gets its row, so that two first counts
// wait for each other too.
func (t *Tx) lockRates(keys [][]byte) error {
	if !t.write {
		return nil
	}
	if t.rates == nil {
		t.rates = map[string][]int64{}
	}
	args, values := []any{[]byte{}}, ""
	for _, key := range keys {
		if _, ok := t.rates[string(key)]; ok {
			continue
		}
		t.rates[string(key)] = nil // once in the statement: a row it changed twice fails it
		args = append(args, key)
		values += fmt.Sprintf(", ($%d, $1, 0)", len(args))
	}
	if len(args) == 1 {
		return nil
	}
	rows, err := t.query(`INSERT INTO rate_limits (key, times, last_at) VALUES `+values[2:]+`
		ON CONFLICT (key) DO UPDATE SET times = rate_limits.times RETURNING key, times`, args...)
	err = each(rows, err, func(r scanner) error {
		var key, b []byte
		err := r.Scan(&key, &b)
		t.rates[string(key)] = decodeTimes(b)
		return err
	})
	return errWrap("rate limit", err)
}

// rateTimes returns the times stored under key: in a write transaction,
// those lockRates read and RateEvents kept, else the row's.
func (t *Tx) rateTimes(key []byte) ([]int64, error) {
	if err := t.lockRates([][]byte{key}); err != nil {
		return nil, err
	}
	if t.write {
		return t.rates[string(key)], nil
	}
	var b []byte
	err := t.queryRow(`SELECT times FROM rate_limits WHERE key = $1`, key).Scan(&b)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	return decodeTimes(b), nil
}

// decodeTimes reads a row's times, 8 bytes each.
func decodeTimes(b []byte) []int64 {
	times := make([]int64, 0, len(b)/8+1)
	for ; len(b) >= 8; b = b[8:] {
		times = append(times, int64(binary.BigEndian.Uint64(b)))
	}
	return times
}

func (t *Tx) AddRateEvent(key []byte, at time.Time) error {
	times, err := t.rateTimes(key)
	if err != nil {
		return err
	}
	times = append(times, at.UnixNano())
	t.rates[string(key)] = times
	b := make([]byte, 0, 8*len(times))
	for _, n := range times {
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	// Nothing reads the outcome: it goes with the next statement.
	return t.execLater("rate limit", `UPDATE rate_limits SET times = $2, last_at = $3 WHERE key = $1`, key, b, slices.Max(times))
}

// PurgeLimits skips the rows another purge has locked: concurrent purges
// share the work instead of waiting.
func (t *Tx) PurgeLimits(eventsBefore, codesExpiredBy time.Time, limit int) (int, error) {
	total := 0
	for _, p := range []struct {
		table, column string
		by            time.Time
	}{{"rate_limits", "last_at", eventsBefore}, {"spent_codes", "expires_at", codesExpiredBy}} {
		n, err := t.affected(`DELETE FROM `+p.table+` WHERE `+t.d.rowID+` IN (SELECT `+t.d.rowID+
			` FROM `+p.table+` WHERE `+p.column+` <= $1 LIMIT $2`+t.d.skipLocked+`)`, nanos(p.by), limit)
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", p.table, err)
		}
		total += int(n)
	}
	return total, nil
}
