package sqlstore

import (
	"consulvote/app/service"
)

func (t *Tx) InsertSession(s service.Session) error {
	if err := t.updateVoter(`last_login_at = $1`, s.VoterID, nanos(s.CreatedAt)); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO sessions (token_hash, voter_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.VoterID, nanos(s.CreatedAt), nanos(s.ExpiresAt))
	return err
}

func (t *Tx) DeleteSession(tokenHash []byte) error {
	_, err := t.exec(`DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return err
}

func (t *Tx) DeleteSessionsOf(voterID int64) error {
	_, err := t.exec(`DELETE FROM sessions WHERE voter_id = $1`, voterID)
	return err
}
