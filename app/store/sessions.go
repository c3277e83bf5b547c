package store

import (
	"consulvote/app/service"
)

func (t *Tx) InsertSession(s service.Session) error {
	_, err := t.exec(`INSERT INTO sessions (token_hash, voter_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.VoterID, nanos(s.CreatedAt), nanos(s.ExpiresAt))
	return err
}

func (t *Tx) DeleteSession(tokenHash []byte) error {
	_, err := t.exec(`DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}

func (t *Tx) DeleteSessionsOf(voterID int64) error {
	_, err := t.exec(`DELETE FROM sessions WHERE voter_id = ?`, voterID)
	return err
}
