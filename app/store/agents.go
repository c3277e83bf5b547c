package store

import (
	"database/sql"
	"fmt"
	"time"

	"consulvote/app/service"
)

func (t *Tx) InsertAgent(a service.Agent) (int64, error) {
	r, err := t.exec(`INSERT INTO agents (name, role, password_hash, created_at, totp_secret) VALUES (?, ?, ?, ?, ?)`,
		a.Name, a.Role, a.PasswordHash, nanos(a.CreatedAt), a.TOTPSecret)
	if err != nil {
		return 0, fmt.Errorf("insert agent: %w", err)
	}
	return r.LastInsertId()
}

func (t *Tx) AgentByName(name string) (service.Agent, error) {
	var a service.Agent
	var created sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, name, role, password_hash, created_at, totp_secret FROM agents WHERE name = ?`, name).
		Scan(&a.ID, &a.Name, &a.Role, &a.PasswordHash, &created, &a.TOTPSecret)
	a.CreatedAt = timeOf(created)
	return a, notFound(err)
}

func (t *Tx) UseTOTPStep(agentID, step int64) (bool, error) {
	r, err := t.exec(`UPDATE agents SET totp_step = ? WHERE id = ? AND (totp_step IS NULL OR totp_step < ?)`, step, agentID, step)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) InsertRecoveryCode(agentID int64, hash []byte) error {
	_, err := t.exec(`INSERT INTO agent_recovery_codes (agent_id, code_hash) VALUES (?, ?)`, agentID, hash)
	return err
}

func (t *Tx) TakeRecoveryCode(agentID int64, hash []byte) (bool, error) {
	r, err := t.exec(`DELETE FROM agent_recovery_codes WHERE agent_id = ? AND code_hash = ?`, agentID, hash)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) InsertAgentSession(s service.AgentSessionRow) error {
	_, err := t.exec(`INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.AgentID, nanos(s.CreatedAt), nanos(s.ExpiresAt))
	return err
}

func (t *Tx) AgentBySession(tokenHash []byte) (service.Agent, time.Time, error) {
	var a service.Agent
	var created, expires sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT a.id, a.name, a.role, a.password_hash, a.created_at, s.expires_at
		FROM agent_sessions s JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = ?`, tokenHash).
		Scan(&a.ID, &a.Name, &a.Role, &a.PasswordHash, &created, &expires)
	a.CreatedAt = timeOf(created)
	return a, timeOf(expires), notFound(err)
}

func (t *Tx) DeleteAgentSession(tokenHash []byte) error {
	_, err := t.exec(`DELETE FROM agent_sessions WHERE token_hash = ?`, tokenHash)
	return err
}

func (t *Tx) ResetSecondFactor(agentID int64, sealed []byte) (int, error) {
	r, err := t.exec(`UPDATE agents SET totp_secret = ?, totp_step = NULL WHERE id = ?`, sealed, agentID)
	if err != nil {
		return 0, fmt.Errorf("reset second factor: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return 0, err
	} else if n != 1 {
		return 0, service.ErrNotFound
	}
	if _, err := t.exec(`DELETE FROM agent_recovery_codes WHERE agent_id = ?`, agentID); err != nil {
		return 0, fmt.Errorf("reset second factor: %w", err)
	}
	r, err = t.exec(`DELETE FROM agent_sessions WHERE agent_id = ?`, agentID)
	if err != nil {
		return 0, fmt.Errorf("reset second factor: %w", err)
	}
	n, err := r.RowsAffected()
	return int(n), err
}
