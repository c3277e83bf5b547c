package sqlstore

import (
	"database/sql"
	"time"

	"consulvote/app/service"
)

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
