package store

import (
	"database/sql"
	"fmt"
	"time"
)

func (t *Tx) InsertSecurityCode(id string, hash []byte, expires time.Time) error {
	_, err := t.exec(`INSERT INTO security_codes (id, code_hash, expires_at) VALUES (?, ?, ?)`, id, hash, nanos(expires))
	return err
}

func (t *Tx) TakeSecurityCode(id string) ([]byte, time.Time, error) {
	var hash []byte
	var expires sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `DELETE FROM security_codes WHERE id = ? RETURNING code_hash, expires_at`, id).
		Scan(&hash, &expires)
	if err != nil {
		return nil, time.Time{}, notFound(err)
	}
	return hash, timeOf(expires), nil
}

func (t *Tx) PurgeSecurityCodes(expiredBy time.Time) error {
	_, err := t.exec(`DELETE FROM security_codes WHERE expires_at <= ?`, nanos(expiredBy))
	return err
}

func (t *Tx) RateEvents(key []byte, since time.Time) ([]time.Time, error) {
	if _, err := t.exec(`DELETE FROM rate_events WHERE key = ? AND at <= ?`, key, nanos(since)); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT at FROM rate_events WHERE key = ? ORDER BY at`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []time.Time
	for rows.Next() {
		var at sql.NullInt64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		ts = append(ts, timeOf(at))
	}
	return ts, rows.Err()
}

func (t *Tx) AddRateEvent(key []byte, at time.Time) error {
	_, err := t.exec(`INSERT INTO rate_events (key, at) VALUES (?, ?)`, key, nanos(at))
	return err
}

func (t *Tx) PurgeRateEvents(before time.Time, limit int) (int, error) {
	res, err := t.exec(`DELETE FROM rate_events WHERE rowid IN (SELECT rowid FROM rate_events WHERE at <= ? LIMIT ?)`, nanos(before), limit)
	if err != nil {
		return 0, fmt.Errorf("purge rate events: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
