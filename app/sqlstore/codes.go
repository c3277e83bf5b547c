package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"consulvote/app/service"
)

func (t *Tx) InsertSecurityCode(id string, hash []byte, expires time.Time) error {
	_, err := t.exec(`INSERT INTO security_codes (id, code_hash, expires_at) VALUES ($1, $2, $3)`, id, hash, nanos(expires))
	return err
}

// TakeSecurityCode deletes and returns in one statement: of concurrent
// takers, one gets the row.
func (t *Tx) TakeSecurityCode(id string) ([]byte, time.Time, error) {
	if unstorable(id) {
		return nil, time.Time{}, service.ErrNotFound
	}
	var hash []byte
	var expires sql.NullInt64
	err := t.queryRow(`DELETE FROM security_codes WHERE id = $1 RETURNING code_hash, expires_at`, id).Scan(&hash, &expires)
	if err != nil {
		return nil, time.Time{}, notFound(err)
	}
	return hash, timeOf(expires), nil
}

func (t *Tx) PurgeSecurityCodes(expiredBy time.Time) error {
	_, err := t.exec(`DELETE FROM security_codes WHERE expires_at <= $1`, nanos(expiredBy))
	return err
}

// RateEvents, in a write transaction, first locks the key until the
// transaction ends: the caller counts and then adds, and two instances
// must not both count below the limit. A NUMIC that is not on the roll is
// limited too, and it has no row to lock.
func (t *Tx) RateEvents(key []byte, since time.Time) ([]time.Time, error) {
	if t.write {
		if err := t.lock(lockRate, key); err != nil {
			return nil, err
		}
		if _, err := t.exec(`DELETE FROM rate_events WHERE key = $1 AND at <= $2`, key, nanos(since)); err != nil {
			return nil, err
		}
	}
	rows, err := t.query(`SELECT at FROM rate_events WHERE key = $1 AND at > $2 ORDER BY at`, key, nanos(since))
	return collect(rows, err, func(r scanner) (time.Time, error) {
		var at sql.NullInt64
		err := r.Scan(&at)
		return timeOf(at), err
	})
}

func (t *Tx) AddRateEvent(key []byte, at time.Time) error {
	_, err := t.exec(`INSERT INTO rate_events (key, at) VALUES ($1, $2)`, key, nanos(at))
	return err
}

// PurgeRateEvents skips the events another purge has locked: concurrent
// purges share the work instead of waiting.
func (t *Tx) PurgeRateEvents(before time.Time, limit int) (int, error) {
	n, err := t.affected(`DELETE FROM rate_events WHERE `+t.d.rowID+` IN (SELECT `+t.d.rowID+
		` FROM rate_events WHERE at <= $1 LIMIT $2`+t.d.skipLocked+`)`, nanos(before), limit)
	if err != nil {
		return 0, fmt.Errorf("purge rate events: %w", err)
	}
	return int(n), nil
}
