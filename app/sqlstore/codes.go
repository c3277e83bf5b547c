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

// RateEvents, in a write transaction, first locks the key's row until the
// transaction ends (an upsert: a key counted for the first time gets its
// row, so that two first counts wait for each other too): the caller
// counts and then adds, and two instances must not both count below the
// limit. The times kept are remembered for AddRateEvent, which then
// writes the row back in one statement.
func (t *Tx) RateEvents(key []byte, since time.Time) ([]time.Time, error) {
	times, err := t.rateTimes(key)
	if err != nil {
		return nil, err
	}
	kept := times[:0]
	var out []time.Time
	for _, at := range times {
		if at > since.UnixNano() {
			kept = append(kept, at)
			out = append(out, time.Unix(0, at))
		}
	}
	if t.write {
		t.rates[string(key)] = kept
	}
	return out, nil
}

// rateTimes returns the times stored under key: in a write transaction,
// those RateEvents kept in it, else the row's, locked.
func (t *Tx) rateTimes(key []byte) ([]int64, error) {
	if times, ok := t.rates[string(key)]; ok {
		return times, nil
	}
	var b []byte
	var err error
	if t.write {
		err = t.queryRow(`INSERT INTO rate_limits (key, times, last_at) VALUES ($1, $2, 0)
			ON CONFLICT (key) DO UPDATE SET times = rate_limits.times RETURNING times`, key, []byte{}).Scan(&b)
	} else {
		err = t.queryRow(`SELECT times FROM rate_limits WHERE key = $1`, key).Scan(&b)
	}
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	times := make([]int64, 0, len(b)/8+1)
	for ; len(b) >= 8; b = b[8:] {
		times = append(times, int64(binary.BigEndian.Uint64(b)))
	}
	if t.write {
		if t.rates == nil {
			t.rates = map[string][]int64{}
		}
		t.rates[string(key)] = times
	}
	return times, nil
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
	_, err = t.exec(`UPDATE rate_limits SET times = $2, last_at = $3 WHERE key = $1`, key, b, slices.Max(times))
	return err
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
