package store

import (
	"database/sql"
	"fmt"
	"time"

	"consulvote/app/service"
)

func (t *Tx) InsertLink(l service.Link) (int64, error) {
	r, err := t.exec(`INSERT INTO links (voter_id, kind, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		l.VoterID, string(l.Kind), l.TokenHash, nanos(l.CreatedAt), nanos(l.ExpiresAt))
	if err != nil {
		return 0, fmt.Errorf("insert link: %w", err)
	}
	return r.LastInsertId()
}

func (t *Tx) LinkByTokenHash(hash []byte) (service.Link, error) {
	var l service.Link
	var kind string
	var created, expires, used, replaced, revoked sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, voter_id, kind, token_hash, created_at, expires_at, used_at,
		replaced_at, revoked_at FROM links WHERE token_hash = ?`, hash).Scan(
		&l.ID, &l.VoterID, &kind, &l.TokenHash, &created, &expires, &used, &replaced, &revoked)
	if err != nil {
		return service.Link{}, notFound(err)
	}
	l.Kind = service.LinkKind(kind)
	l.CreatedAt, l.ExpiresAt, l.UsedAt = timeOf(created), timeOf(expires), timeOf(used)
	l.ReplacedAt, l.RevokedAt = timeOf(replaced), timeOf(revoked)
	return l, nil
}

// pending is the condition of a link that can still be used (expiry aside).
const pending = `used_at IS NULL AND replaced_at IS NULL AND revoked_at IS NULL`

func (t *Tx) HasPendingLink(voterID int64, kind service.LinkKind, now time.Time) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM links WHERE voter_id = ? AND kind = ? AND `+pending+
		` AND expires_at > ?`, voterID, string(kind), nanos(now)).Scan(&n)
	return n > 0, err
}

func (t *Tx) PendingLinks(voterID int64, now time.Time) ([]service.Link, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT kind, created_at, expires_at FROM links
		WHERE voter_id = ? AND `+pending+` AND expires_at > ? ORDER BY id`, voterID, nanos(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []service.Link
	for rows.Next() {
		var l service.Link
		var kind string
		var created, expires sql.NullInt64
		if err := rows.Scan(&kind, &created, &expires); err != nil {
			return nil, err
		}
		l.VoterID, l.Kind, l.CreatedAt, l.ExpiresAt = voterID, service.LinkKind(kind), timeOf(created), timeOf(expires)
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

func (t *Tx) ReplaceLinks(voterID int64, kind service.LinkKind, at time.Time) error {
	_, err := t.exec(`UPDATE links SET replaced_at = ? WHERE voter_id = ? AND kind = ? AND `+pending,
		nanos(at), voterID, string(kind))
	return err
}

func (t *Tx) ConsumeLink(id int64, at time.Time) (bool, error) {
	r, err := t.exec(`UPDATE links SET used_at = ? WHERE id = ? AND `+pending+` AND expires_at > ?`,
		nanos(at), id, nanos(at))
	if err != nil {
		return false, fmt.Errorf("consume link: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) RevokeLinks(voterID int64, at time.Time) error {
	_, err := t.exec(`UPDATE links SET revoked_at = ? WHERE voter_id = ? AND `+pending, nanos(at), voterID)
	return err
}
