package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"consulvote/app/service"
)

func (t *Tx) InsertVoter(v service.Voter) (int64, error) {
	var idHash any
	if len(v.IdentifierHash) > 0 {
		idHash = v.IdentifierHash
	}
	r, err := t.exec(`INSERT INTO voters (numic, email, last_name, first_names, mobile, circonscription, lang,
		identifier_hash, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.NUMIC, v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription, v.Lang, idHash, v.PasswordHash)
	if err != nil {
		return 0, fmt.Errorf("insert voter: %w", err)
	}
	return r.LastInsertId()
}

func (t *Tx) CountVoters() (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM voters`).Scan(&n)
	return n, err
}

const voterColumns = `id, numic, email, last_name, first_names, mobile, circonscription, lang,
	identifier_hash, password_hash, failed_attempts, locked_until, identifier_renewed_at,
	password_renewed_at, last_login_at, email_by_desk, mobile_by_desk`

func (t *Tx) voter(where string, arg any) (service.Voter, error) {
	var v service.Voter
	var locked, idRenewed, pwRenewed, lastLogin, emailByDesk, mobileByDesk sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT `+voterColumns+` FROM voters WHERE `+where, arg).Scan(
		&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription, &v.Lang,
		&v.IdentifierHash, &v.PasswordHash, &v.FailedAttempts, &locked, &idRenewed, &pwRenewed, &lastLogin,
		&emailByDesk, &mobileByDesk)
	if err != nil {
		return service.Voter{}, notFound(err)
	}
	v.LockedUntil, v.IdentifierRenewedAt = timeOf(locked), timeOf(idRenewed)
	v.PasswordRenewedAt, v.LastLoginAt = timeOf(pwRenewed), timeOf(lastLogin)
	v.EmailByDesk, v.MobileByDesk = timeOf(emailByDesk), timeOf(mobileByDesk)
	return v, nil
}

func (t *Tx) VoterByID(id int64) (service.Voter, error) { return t.voter("id = ?", id) }

func (t *Tx) VoterByNUMIC(numic string) (service.Voter, error) { return t.voter("numic = ?", numic) }

func (t *Tx) VoterByIdentifier(hash []byte) (service.Voter, error) {
	return t.voter("identifier_hash = ?", hash)
}

func (t *Tx) FindVoters(numic, email string, limit int) ([]service.Voter, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM voters WHERE numic = ? OR email = ? ORDER BY id LIMIT ?`, numic, email, limit)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	vs := make([]service.Voter, 0, len(ids))
	for _, id := range ids {
		v, err := t.VoterByID(id)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// updateVoter runs an UPDATE on one voter and fails if there is none.
func (t *Tx) updateVoter(set string, voterID int64, args ...any) error {
	r, err := t.exec(`UPDATE voters SET `+set+` WHERE id = ?`, append(args, voterID)...)
	if err != nil {
		return fmt.Errorf("update voter: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		return errors.Join(service.ErrNotFound, err)
	}
	return nil
}

func (t *Tx) SetIdentifier(voterID int64, hash []byte, at time.Time) error {
	return t.updateVoter(`identifier_hash = ?, identifier_renewed_at = ?`, voterID, hash, nanos(at))
}

func (t *Tx) SetPassword(voterID int64, hash string, at time.Time) error {
	return t.updateVoter(`password_hash = ?, password_renewed_at = ?`, voterID, hash, nanos(at))
}

func (t *Tx) SetLastLogin(voterID int64, at time.Time) error {
	return t.updateVoter(`last_login_at = ?`, voterID, nanos(at))
}

// ReserveAttempt is one conditional UPDATE: the row is the reservation,
// and SQLite's single writer (PostgreSQL's row lock) orders concurrent
// callers.
func (t *Tx) ReserveAttempt(voterID int64, now time.Time, max int, window time.Duration) (int, time.Time, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `UPDATE voters SET
		failed_attempts = CASE WHEN attempts_until IS NULL OR attempts_until <= ?1 THEN 1 ELSE failed_attempts + 1 END,
		attempts_until = CASE WHEN attempts_until IS NULL OR attempts_until <= ?1 THEN ?2 ELSE attempts_until END
		WHERE id = ?3 AND (locked_until IS NULL OR locked_until <= ?1)
		AND (attempts_until IS NULL OR attempts_until <= ?1 OR failed_attempts < ?4)
		RETURNING failed_attempts`, nanos(now), nanos(now.Add(window)), voterID, max).Scan(&n)
	if err == nil {
		return n, time.Time{}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("reserve attempt: %w", err)
	}
	var locked sql.NullInt64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT locked_until FROM voters WHERE id = ?`, voterID).Scan(&locked); err != nil {
		return 0, time.Time{}, notFound(err)
	}
	if l := timeOf(locked); l.After(now) {
		return 0, l, nil
	}
	return 0, time.Time{}, nil // the window's attempts are all being checked
}

func (t *Tx) ReleaseAttempt(voterID int64) error {
	return t.updateVoter(`failed_attempts = MAX(failed_attempts - 1, 0)`, voterID)
}

func (t *Tx) Lock(voterID int64, until time.Time) error {
	return t.updateVoter(`locked_until = ?, attempts_until = ?`, voterID, nanos(until), nanos(until))
}

func (t *Tx) ClearFailures(voterID int64, now time.Time) (bool, error) {
	r, err := t.exec(`UPDATE voters SET failed_attempts = 0, attempts_until = NULL
		WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)`, voterID, nanos(now))
	if err != nil {
		return false, fmt.Errorf("clear failures: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) Unlock(voterID int64) error {
	return t.updateVoter(`locked_until = NULL, failed_attempts = 0, attempts_until = NULL`, voterID)
}
