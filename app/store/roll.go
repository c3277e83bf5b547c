package store

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"consulvote/app/service"
)

func (t *Tx) VotersByNUMIC(numics []string) (map[string]service.Voter, error) {
	out := make(map[string]service.Voter, len(numics))
	const chunk = 500 // well under SQLite's limit on bound parameters
	for len(numics) > 0 {
		n := min(chunk, len(numics))
		args := make([]any, n)
		for i, s := range numics[:n] {
			args[i] = s
		}
		rows, err := t.tx.QueryContext(t.ctx, `SELECT id, numic, email, last_name, first_names, mobile, circonscription,
			email_by_desk, mobile_by_desk FROM voters WHERE numic IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v service.Voter
			var emailByDesk, mobileByDesk sql.NullInt64
			if err := rows.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription,
				&emailByDesk, &mobileByDesk); err != nil {
				rows.Close()
				return nil, err
			}
			v.EmailByDesk, v.MobileByDesk = timeOf(emailByDesk), timeOf(mobileByDesk)
			out[v.NUMIC] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		numics = numics[n:]
	}
	return out, nil
}

// InsertVoters inserts with one prepared statement.
func (t *Tx) InsertVoters(vs []service.Voter) error {
	if len(vs) == 0 {
		return nil
	}
	st, err := t.tx.PrepareContext(t.ctx, `INSERT INTO voters (numic, email, last_name, first_names, mobile, circonscription,
		lang, identifier_hash, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, v := range vs {
		var idHash any
		if len(v.IdentifierHash) > 0 {
			idHash = v.IdentifierHash
		}
		if _, err := st.ExecContext(t.ctx, v.NUMIC, v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription, v.Lang,
			idHash, v.PasswordHash); err != nil {
			return fmt.Errorf("insert voter %s: %w", v.NUMIC, err)
		}
	}
	return nil
}

// UpdateRollData keeps an e-mail or mobile the desk set, in the update
// itself: the right-hand sides read the row as it was, so the desk's mark
// ends only when the roll brings the value the desk set.
func (t *Tx) UpdateRollData(v service.Voter) error {
	return t.updateVoter(`last_name = ?, first_names = ?, circonscription = ?,
		email = CASE WHEN email_by_desk IS NULL THEN ? ELSE email END,
		email_by_desk = CASE WHEN email = ? THEN NULL ELSE email_by_desk END,
		mobile = CASE WHEN mobile_by_desk IS NULL THEN ? ELSE mobile END,
		mobile_by_desk = CASE WHEN mobile = ? THEN NULL ELSE mobile_by_desk END`, v.ID,
		v.LastName, v.FirstNames, v.Circonscription, v.Email, v.Email, v.Mobile, v.Mobile)
}

func (t *Tx) VotersWithoutCredentials(campaign string, limit int) ([]service.Voter, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, numic, email, last_name, first_names, mobile, lang FROM voters v
		WHERE identifier_hash IS NULL
		AND NOT EXISTS (SELECT 1 FROM campaign_sends c WHERE c.campaign = ? AND c.voter_id = v.id)
		ORDER BY id LIMIT ?`, campaign, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []service.Voter
	for rows.Next() {
		var v service.Voter
		if err := rows.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Lang); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

func (t *Tx) SetFirstCredentials(campaign string, voterID int64, identifierHash []byte, passwordHash string, at time.Time) (bool, error) {
	r, err := t.exec(`INSERT INTO campaign_sends (campaign, voter_id, sent_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		campaign, voterID, nanos(at))
	if err != nil {
		return false, err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return false, nil
	}
	r, err = t.exec(`UPDATE voters SET identifier_hash = ?, password_hash = ? WHERE id = ? AND identifier_hash IS NULL`,
		identifierHash, passwordHash, voterID)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}
