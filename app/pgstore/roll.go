package pgstore

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"consulvote/app/service"
)

// VotersByNUMIC reads the whole batch in one query (= ANY of an array):
// PostgreSQL has no limit on bound parameters to work around.
func (t *Tx) VotersByNUMIC(numics []string) (map[string]service.Voter, error) {
	out := make(map[string]service.Voter, len(numics))
	rows, err := t.tx.Query(t.ctx, `SELECT id, numic, email, last_name, first_names, mobile, circonscription
		FROM voters WHERE numic = ANY($1)`, numics)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v service.Voter
		if err := rows.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription); err != nil {
			return nil, err
		}
		out[v.NUMIC] = v
	}
	return out, rows.Err()
}

// InsertVoters streams the voters with COPY: one round trip for a whole
// batch of the roll import, and no statement per row to plan.
func (t *Tx) InsertVoters(vs []service.Voter) error {
	if len(vs) == 0 {
		return nil
	}
	_, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"voters"},
		[]string{"numic", "email", "last_name", "first_names", "mobile", "circonscription", "lang", "identifier_hash", "password_hash"},
		pgx.CopyFromSlice(len(vs), func(i int) ([]any, error) {
			v := vs[i]
			return []any{v.NUMIC, v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription, v.Lang,
				bytesOrNull(v.IdentifierHash), v.PasswordHash}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy voters: %w", err)
	}
	return nil
}

func (t *Tx) UpdateRollData(v service.Voter) error {
	return t.updateVoter(`email = $1, last_name = $2, first_names = $3, mobile = $4, circonscription = $5`, v.ID,
		v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription)
}

func (t *Tx) VotersWithoutCredentials(campaign string, limit int) ([]service.Voter, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT id, numic, email, last_name, first_names, mobile, lang FROM voters v
		WHERE identifier_hash IS NULL
		AND NOT EXISTS (SELECT 1 FROM campaign_sends c WHERE c.campaign = $1 AND c.voter_id = v.id)
		ORDER BY id LIMIT $2`, campaign, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (service.Voter, error) {
		var v service.Voter
		err := r.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Lang)
		return v, err
	})
}

// SetFirstCredentials: the campaign's row is the reservation (a second
// insert waits for the first to commit, then does nothing), and the
// voter's update is conditional.
func (t *Tx) SetFirstCredentials(campaign string, voterID int64, identifierHash []byte, passwordHash string, at time.Time) (bool, error) {
	tag, err := t.exec(`INSERT INTO campaign_sends (campaign, voter_id, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		campaign, voterID, nanos(at))
	if err != nil {
		return false, fmt.Errorf("campaign send: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return false, nil
	}
	tag, err = t.exec(`UPDATE voters SET identifier_hash = $1, password_hash = $2 WHERE id = $3 AND identifier_hash IS NULL`,
		bytesOrNull(identifierHash), passwordHash, voterID)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}
