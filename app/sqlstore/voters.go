package sqlstore

import (
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
	if err != nil {
		return 0, fmt.Errorf("insert voter: %w", err)
	}
	return id, nil
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

func (t *Tx) VoterByIdentifier(hash []byte) (service.Voter, error) {
	return t.voter("identifier_hash = $1", hash)
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
		return errOr(errWrap("update voter", err), service.ErrNotFound)
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
// (the same columns), found by keyCol: the row is the reservation.
// Concurrent callers, on any instance, queue on the row's lock, and each
// evaluates the condition again on the row as the one before committed
// it (PostgreSQL's READ COMMITTED; SQLite has one writer): no more than
// max get a number per window. A refusal returns the lock's end, if any.
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
