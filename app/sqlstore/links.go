package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"consulvote/app/service"
)

// InsertLink replaces the voter's pending links of l's kind and inserts
// l; on PostgreSQL in one statement, the UPDATE in a WITH (it sees the
// table as the statement began: not the new row).
func (t *Tx) InsertLink(l service.Link) (int64, error) {
	const replace = `UPDATE links SET replaced_at = $5 WHERE voter_id = $2 AND kind = $3 AND ` + pending
	insert := `INSERT INTO links (id, voter_id, kind, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`
	if t.d.writableWith {
		insert = `WITH replaced AS (` + replace + `) ` + insert
	} else if err := t.exec(`UPDATE links SET replaced_at = $1 WHERE voter_id = $2 AND kind = $3 AND `+pending,
		nanos(l.CreatedAt), l.VoterID, string(l.Kind)); err != nil {
		return 0, fmt.Errorf("replace links: %w", err)
	}
	return t.insertRow("links", "insert link", insert, l.VoterID, string(l.Kind), l.TokenHash, nanos(l.CreatedAt), nanos(l.ExpiresAt))
}

func (t *Tx) LinkByTokenHash(hash []byte) (service.Link, error) {
	var l service.Link
	var kind string
	var created, expires, used, replaced, revoked sql.NullInt64
	err := t.queryRow(`SELECT id, voter_id, kind, token_hash, created_at, expires_at, used_at, replaced_at, revoked_at
		FROM links WHERE token_hash = $1`, hash).Scan(
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

func (t *Tx) PendingLinks(voterID int64, now time.Time) ([]service.Link, error) {
	rows, err := t.query(`SELECT kind, created_at, expires_at FROM links
		WHERE voter_id = $1 AND `+pending+` AND expires_at > $2 ORDER BY id`, voterID, nanos(now))
	return collect(rows, err, func(r scanner) (service.Link, error) {
		var kind string
		var created, expires sql.NullInt64
		err := r.Scan(&kind, &created, &expires)
		return service.Link{VoterID: voterID, Kind: service.LinkKind(kind), CreatedAt: timeOf(created), ExpiresAt: timeOf(expires)}, err
	})
}

// ConsumeLink is one conditional UPDATE: of concurrent callers, one
// changes the row (the others wait for its lock, then find it used).
func (t *Tx) ConsumeLink(id int64, at time.Time) (bool, error) {
	ok, err := t.changed(`UPDATE links SET used_at = $1 WHERE id = $2 AND `+pending+` AND expires_at > $1`, nanos(at), id)
	if err != nil {
		return false, fmt.Errorf("consume link: %w", err)
	}
	return ok, nil
}

func (t *Tx) RevokeLinks(voterID int64, at time.Time) error {
	return t.exec(`UPDATE links SET revoked_at = $1 WHERE voter_id = $2 AND `+pending, nanos(at), voterID)
}
