package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"consulvote/app/service"
)

func (t *Tx) InsertVoter(v service.Voter) (int64, error) {
	var id int64
	err := t.queryRow(`INSERT INTO voters (numic, email, last_name, first_names, mobile, circonscription, lang,
		identifier_hash, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		v.NUMIC, v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription, v.Lang,
		bytesOrNull(v.IdentifierHash), v.PasswordHash).Scan(&id)
	return id, errWrap("insert voter", err)
}

func (t *Tx) CountVoters() (int, error) {
	var n int
	err := t.queryRow(`SELECT COUNT(*) FROM voters`).Scan(&n)
	return n, err
}

const voterColumns = `id, numic, email, last_name, first_names, mobile, circonscription, lang,
	identifier_hash, password_hash, failed_attempts, locked_until, identifier_renewed_at,
	password_renewed_at, last_login_at, email_by_desk, mobile_by_desk`

func scanVoter(row scanner) (service.Voter, error) {
	var v service.Voter
	var locked, idRenewed, pwRenewed, lastLogin, emailByDesk, mobileByDesk sql.NullInt64
	err := row.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription, &v.Lang,
		&v.IdentifierHash, &v.PasswordHash, &v.FailedAttempts, &locked, &idRenewed, &pwRenewed, &lastLogin,
		&emailByDesk, &mobileByDesk)
	v.LockedUntil, v.IdentifierRenewedAt = timeOf(locked), timeOf(idRenewed)
	v.PasswordRenewedAt, v.LastLoginAt = timeOf(pwRenewed), timeOf(lastLogin)
	v.EmailByDesk, v.MobileByDesk = timeOf(emailByDesk), timeOf(mobileByDesk)
	return v, err
}

// voter looks one voter up; in a write transaction it locks the row, so
// that what the caller decides from it holds until commit.
func (t *Tx) voter(where string, arg any) (service.Voter, error) {
	v, err := scanVoter(t.queryRow(`SELECT `+voterColumns+` FROM voters WHERE `+where+t.forUpdate(), arg))
	if err != nil {
		return service.Voter{}, notFound(err)
	}
	return v, nil
}

func (t *Tx) VoterByID(id int64) (service.Voter, error) { return t.voter("id = $1", id) }

func (t *Tx) VoterByNUMIC(numic string) (service.Voter, error) {
	if unstorable(numic) {
		return service.Voter{}, service.ErrNotFound
	}
	return t.voter("numic = $1", numic)
}

func (t *Tx) VoterByIdentifier(h []byte) (service.Voter, error) {
	return t.voter("identifier_hash = $1", h)
}

func (t *Tx) FindVoters(numic, email string, limit int) ([]service.Voter, error) {
	if unstorable(numic, email) {
		return nil, nil
	}
	rows, err := t.query(`SELECT `+voterColumns+` FROM voters WHERE numic = $1 OR email = $2 ORDER BY id LIMIT $3`,
		numic, email, limit)
	return collect(rows, err, scanVoter)
}

// updateVoter runs an UPDATE on one voter and fails if there is none.
func (t *Tx) updateVoter(set string, voterID int64, args ...any) error {
	ok, err := t.changed(`UPDATE voters SET `+set+fmt.Sprintf(` WHERE id = $%d`, len(args)+1), append(args, voterID)...)
	if err != nil || !ok {
		return cmp.Or(errWrap("update voter", err), service.ErrNotFound)
	}
	return nil
}

func (t *Tx) SetIdentifier(voterID int64, hash []byte, at time.Time) error {
	return t.updateVoter(`identifier_hash = $1, identifier_renewed_at = $2`, voterID, bytesOrNull(hash), nanos(at))
}

func (t *Tx) SetPassword(voterID int64, hash string, at time.Time) error {
	return t.updateVoter(`password_hash = $1, password_renewed_at = $2`, voterID, hash, nanos(at))
}

func (t *Tx) ReserveAttempt(voterID int64, now time.Time, max int, window time.Duration) (int, time.Time, error) {
	return t.reserve("voters", "id", voterID, now, max, window)
}

// reserve is one conditional UPDATE of a voter's or a throttle's row
// (the same columns), found by keyCol: the row is the reservation, so no
// more than max concurrent callers get a number per window. A refusal
// returns the lock's end, if any.
func (t *Tx) reserve(table, keyCol string, key any, now time.Time, max int, window time.Duration) (int, time.Time, error) {
	var n int
	err := t.queryRow(`UPDATE `+table+` SET
		failed_attempts = CASE WHEN attempts_until IS NULL OR attempts_until <= $1 THEN 1 ELSE failed_attempts + 1 END,
		attempts_until = CASE WHEN attempts_until IS NULL OR attempts_until <= $1 THEN $2 ELSE attempts_until END
		WHERE `+keyCol+` = $3 AND (locked_until IS NULL OR locked_until <= $1)
		AND (attempts_until IS NULL OR attempts_until <= $1 OR failed_attempts < $4)
		RETURNING failed_attempts`, nanos(now), nanos(now.Add(window)), key, max).Scan(&n)
	if !errors.Is(err, sql.ErrNoRows) {
		return n, time.Time{}, errWrap("reserve attempt", err)
	}
	var locked sql.NullInt64
	if err := t.queryRow(`SELECT locked_until FROM `+table+` WHERE `+keyCol+` = $1`, key).Scan(&locked); err != nil {
		return 0, time.Time{}, notFound(err)
	}
	if l := timeOf(locked); l.After(now) {
		return 0, l, nil
	}
	return 0, time.Time{}, nil // the window's attempts are all being checked
}

func (t *Tx) ReleaseAttempt(voterID int64) error {
	return t.updateVoter(`failed_attempts = CASE WHEN failed_attempts > 0 THEN failed_attempts - 1 ELSE 0 END`, voterID)
}

func (t *Tx) Lock(voterID int64, until time.Time) error {
	if until.IsZero() {
		return t.updateVoter(`locked_until = NULL, failed_attempts = 0, attempts_until = NULL`, voterID)
	}
	return t.updateVoter(`locked_until = $1, attempts_until = $1`, voterID, nanos(until))
}

func (t *Tx) ClearFailures(voterID int64, now time.Time) (bool, error) {
	ok, err := t.changed(`UPDATE voters SET failed_attempts = 0, attempts_until = NULL
		WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)`, voterID, nanos(now))
	return ok, errWrap("clear failures", err)
}

func (t *Tx) InsertSession(s service.Session) error {
	if err := t.updateVoter(`last_login_at = $1`, s.VoterID, nanos(s.CreatedAt)); err != nil {
		return err
	}
	return t.exec(`INSERT INTO sessions (token_hash, voter_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.VoterID, nanos(s.CreatedAt), nanos(s.ExpiresAt))
}

func (t *Tx) DeleteSession(tokenHash []byte) error {
	return t.exec(`DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
}

func (t *Tx) DeleteSessionsOf(voterID int64) error {
	return t.exec(`DELETE FROM sessions WHERE voter_id = $1`, voterID)
}

// VotersByNUMIC reads the whole batch in one query, the NUMICs bound as
// one list: no limit on bound parameters to work around.
func (t *Tx) VotersByNUMIC(numics []string) (map[string]service.Voter, error) {
	out := make(map[string]service.Voter, len(numics))
	rows, err := t.query(`SELECT id, numic, email, last_name, first_names, mobile, circonscription,
		email_by_desk, mobile_by_desk FROM voters WHERE numic `+t.d.in("$1"), t.d.list(numics))
	err = each(rows, err, func(r scanner) error {
		var v service.Voter
		var emailByDesk, mobileByDesk sql.NullInt64
		err := r.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription,
			&emailByDesk, &mobileByDesk)
		v.EmailByDesk, v.MobileByDesk = timeOf(emailByDesk), timeOf(mobileByDesk)
		out[v.NUMIC] = v
		return err
	})
	return out, err
}

// InsertVoters inserts the batch at once (PostgreSQL: COPY; SQLite: one
// prepared statement).
func (t *Tx) InsertVoters(vs []service.Voter) error {
	rows := make([][]any, len(vs))
	for i, v := range vs {
		rows[i] = []any{v.NUMIC, v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription, v.Lang,
			bytesOrNull(v.IdentifierHash), v.PasswordHash}
	}
	err := t.d.copyRows(t, "voters",
		[]string{"numic", "email", "last_name", "first_names", "mobile", "circonscription", "lang", "identifier_hash", "password_hash"}, rows)
	return errWrap("insert voters", err)
}

// UpdateRollData keeps an e-mail or mobile the desk set, in the update
// itself: the right-hand sides read the row as it was (an approval that
// committed first included), so the desk's mark ends only when the roll
// brings the value the desk set.
func (t *Tx) UpdateRollData(v service.Voter) error {
	return t.updateVoter(`last_name = $1, first_names = $2, circonscription = $3,
		email = CASE WHEN email_by_desk IS NULL THEN $4 ELSE email END,
		email_by_desk = CASE WHEN email = $4 THEN NULL ELSE email_by_desk END,
		mobile = CASE WHEN mobile_by_desk IS NULL THEN $5 ELSE mobile END,
		mobile_by_desk = CASE WHEN mobile = $5 THEN NULL ELSE mobile_by_desk END`, v.ID,
		v.LastName, v.FirstNames, v.Circonscription, v.Email, v.Mobile)
}

func (t *Tx) VotersWithoutCredentials(campaign string, limit int) ([]service.Voter, error) {
	rows, err := t.query(`SELECT id, numic, email, last_name, first_names, mobile, lang FROM voters v
		WHERE identifier_hash IS NULL
		AND NOT EXISTS (SELECT 1 FROM campaign_sends c WHERE c.campaign = $1 AND c.voter_id = v.id)
		ORDER BY id LIMIT $2`, campaign, limit)
	return collect(rows, err, func(r scanner) (service.Voter, error) {
		var v service.Voter
		err := r.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Lang)
		return v, err
	})
}

// SetFirstCredentials: the campaign's row is the reservation (a second
// insert waits for the first to commit, then does nothing), and the
// voter's update is conditional.
func (t *Tx) SetFirstCredentials(campaign string, voterID int64, identifierHash []byte, passwordHash string, at time.Time) (bool, error) {
	ok, err := t.changed(`INSERT INTO campaign_sends (campaign, voter_id, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		campaign, voterID, nanos(at))
	if err != nil || !ok {
		return false, errWrap("campaign send", err)
	}
	return t.changed(`UPDATE voters SET identifier_hash = $1, password_hash = $2 WHERE id = $3 AND identifier_hash IS NULL`,
		bytesOrNull(identifierHash), passwordHash, voterID)
}

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
	return ok, errWrap("consume link", err)
}

func (t *Tx) RevokeLinks(voterID int64, at time.Time) error {
	return t.exec(`UPDATE links SET revoked_at = $1 WHERE voter_id = $2 AND `+pending, nanos(at), voterID)
}
