package sqlstore

import (
	"consulvote/app/service"
)

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
