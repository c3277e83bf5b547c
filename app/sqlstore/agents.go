package sqlstore

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

func (t *Tx) InsertAgent(a service.Agent, recovery [][]byte) (int64, error) {
	var id int64
	err := t.queryRow(`INSERT INTO agents (name, role, password_hash, created_at, totp_secret, scope) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.Name, a.Role, a.PasswordHash, nanos(a.CreatedAt), a.TOTPSecret, a.Scope.String()).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, t.insertRecoveryCodes(id, recovery)
}

// AgentByName, in a write transaction, locks the agent's row: a login
// checks the second factor it reads against a concurrent reset of it.
func (t *Tx) AgentByName(name string) (service.Agent, error) {
	if unstorable(name) {
		return service.Agent{}, service.ErrNotFound
	}
	var a service.Agent
	var created sql.NullInt64
	var scope string
	err := t.queryRow(`SELECT id, name, role, password_hash, created_at, totp_secret, email, scope FROM agents WHERE name = $1`+t.forUpdate(), name).
		Scan(&a.ID, &a.Name, &a.Role, &a.PasswordHash, &created, &a.TOTPSecret, &a.Email, &scope)
	a.CreatedAt, a.Scope = timeOf(created), portal.ParseScope(scope)
	return a, notFound(err)
}

func (t *Tx) SetAgentEmail(agentID int64, email string) error {
	return t.exec(`UPDATE agents SET email = $1 WHERE id = $2`, email, agentID)
}

func (t *Tx) UseTOTPStep(agentID, step int64) (bool, error) {
	return t.changed(`UPDATE agents SET totp_step = $1 WHERE id = $2 AND (totp_step IS NULL OR totp_step < $1)`, step, agentID)
}

func (t *Tx) insertRecoveryCodes(agentID int64, hashes [][]byte) error {
	for _, h := range hashes {
		if err := t.exec(`INSERT INTO agent_recovery_codes (agent_id, code_hash) VALUES ($1, $2)`, agentID, h); err != nil {
			return fmt.Errorf("insert recovery code: %w", err)
		}
	}
	return nil
}

func (t *Tx) TakeRecoveryCode(agentID int64, hash []byte) (bool, error) {
	return t.changed(`DELETE FROM agent_recovery_codes WHERE agent_id = $1 AND code_hash = $2`, agentID, hash)
}

func (t *Tx) InsertAgentSession(s service.AgentSessionRow) error {
	return t.exec(`INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.AgentID, nanos(s.CreatedAt), nanos(s.ExpiresAt))
}

func (t *Tx) AgentBySession(tokenHash []byte) (service.Agent, time.Time, error) {
	var a service.Agent
	var created, expires sql.NullInt64
	var scope string
	err := t.queryRow(`SELECT a.id, a.name, a.role, a.password_hash, a.created_at, s.expires_at, a.scope
		FROM agent_sessions s JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = $1`, tokenHash).
		Scan(&a.ID, &a.Name, &a.Role, &a.PasswordHash, &created, &expires, &scope)
	a.CreatedAt, a.Scope = timeOf(created), portal.ParseScope(scope)
	return a, timeOf(expires), notFound(err)
}

func (t *Tx) DeleteAgentSession(tokenHash []byte) error {
	return t.exec(`DELETE FROM agent_sessions WHERE token_hash = $1`, tokenHash)
}

// ResetSecondFactor updates the agent's row first: concurrent resets of
// one agent queue on it, and each deletes what the one before it wrote.
func (t *Tx) ResetSecondFactor(agentID int64, sealed []byte, recovery [][]byte) (int, error) {
	if ok, err := t.changed(`UPDATE agents SET totp_secret = $1, totp_step = NULL WHERE id = $2`, sealed, agentID); err != nil || !ok {
		return 0, cmp.Or(err, service.ErrNotFound)
	}
	if err := t.exec(`DELETE FROM agent_recovery_codes WHERE agent_id = $1`, agentID); err != nil {
		return 0, err
	}
	n, err := t.affected(`DELETE FROM agent_sessions WHERE agent_id = $1`, agentID)
	if err != nil {
		return 0, err
	}
	return int(n), t.insertRecoveryCodes(agentID, recovery)
}

// ReserveThrottled makes key's row if needed (a concurrent insert of the
// same key waits, then does nothing), then reserves as ReserveAttempt.
func (t *Tx) ReserveThrottled(key []byte, now time.Time, max int, window time.Duration) (int, time.Time, error) {
	if err := t.exec(`INSERT INTO throttles (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, key); err != nil {
		return 0, time.Time{}, fmt.Errorf("throttle: %w", err)
	}
	return t.reserve("throttles", "key", key, now, max, window)
}

func (t *Tx) ThrottleFailed(key []byte, n, max int, now time.Time, base, maxBlock time.Duration) (time.Time, error) {
	if n < max {
		return time.Time{}, nil
	}
	var blocks int
	if err := t.queryRow(`UPDATE throttles SET blocks = blocks + 1 WHERE key = $1 RETURNING blocks`, key).
		Scan(&blocks); err != nil {
		return time.Time{}, fmt.Errorf("throttle: %w", notFound(err))
	}
	d := base
	for i := 1; i < blocks && d < maxBlock; i++ {
		d *= 2
	}
	until := now.Add(min(d, maxBlock))
	return until, t.exec(`UPDATE throttles SET locked_until = $1, attempts_until = $1 WHERE key = $2`, nanos(until), key)
}

func (t *Tx) ReleaseThrottled(key []byte) error {
	return t.exec(`UPDATE throttles SET failed_attempts = CASE WHEN failed_attempts > 0 THEN failed_attempts - 1 ELSE 0 END WHERE key = $1`, key)
}

func (t *Tx) ThrottleSucceeded(key []byte) error {
	return t.exec(`DELETE FROM throttles WHERE key = $1`, key)
}

// InsertContactChange: the partial unique index allows one pending
// proposal per voter; a concurrent second insert waits for the first to
// commit, then inserts nothing and returns no row.
func (t *Tx) InsertContactChange(c service.ContactChange) (int64, error) {
	var id int64
	err := t.queryRow(`INSERT INTO contact_changes (voter_id, old_email, new_email, old_mobile, new_mobile, document,
		reason, proposed_by, proposed_at, expires_at, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending') ON CONFLICT DO NOTHING RETURNING id`,
		c.VoterID, c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile, c.Document, c.Reason, c.ProposedBy,
		nanos(c.ProposedAt), nanos(c.ExpiresAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, service.ErrConflict
	}
	return id, errWrap("insert contact change", err)
}

const changeColumns = `c.id, c.voter_id, c.old_email, c.new_email, c.old_mobile, c.new_mobile, c.document, c.reason,
	c.proposed_by, p.name, c.proposed_at, c.expires_at, c.state, COALESCE(c.decided_by, 0), COALESCE(d.name, ''),
	c.decided_at, c.decision_reason
	FROM contact_changes c JOIN agents p ON p.id = c.proposed_by LEFT JOIN agents d ON d.id = c.decided_by`

func (t *Tx) contactChanges(where string, args ...any) ([]service.ContactChange, error) {
	rows, err := t.query(`SELECT `+changeColumns+` WHERE `+where, args...)
	return collect(rows, err, func(r scanner) (service.ContactChange, error) {
		var c service.ContactChange
		var proposed, expires, decided sql.NullInt64
		err := r.Scan(&c.ID, &c.VoterID, &c.OldEmail, &c.NewEmail, &c.OldMobile, &c.NewMobile, &c.Document,
			&c.Reason, &c.ProposedBy, &c.ProposedByName, &proposed, &expires, &c.State, &c.DecidedBy,
			&c.DecidedByName, &decided, &c.DecisionReason)
		c.ProposedAt, c.ExpiresAt, c.DecidedAt = timeOf(proposed), timeOf(expires), timeOf(decided)
		return c, err
	})
}

// ExpireContactChanges expires in one conditional UPDATE: a proposal
// decided meanwhile on another instance stays decided.
func (t *Tx) ExpireContactChanges(now time.Time) ([]service.ContactChange, error) {
	rows, err := t.query(`UPDATE contact_changes SET state = 'expired'
		WHERE state = 'pending' AND expires_at <= $1 RETURNING id`, nanos(now))
	ids, err := collect(rows, err, scanOne[int64])
	if err != nil || len(ids) == 0 {
		return nil, errWrap("expire contact changes", err)
	}
	return t.contactChanges(`c.id `+t.d.in("$1")+` ORDER BY c.id`, t.d.list(ids))
}

func (t *Tx) ContactChangeByID(id int64) (service.ContactChange, error) {
	cs, err := t.contactChanges(`c.id = $1`, id)
	if err != nil || len(cs) == 0 {
		return service.ContactChange{}, cmp.Or(err, service.ErrNotFound)
	}
	return cs[0], nil
}

func (t *Tx) PendingContactChanges(now time.Time, limit int) ([]service.ContactChange, error) {
	return t.contactChanges(`c.state = 'pending' AND c.expires_at > $1 ORDER BY c.id LIMIT $2`, nanos(now), limit)
}

func (t *Tx) VoterContactChanges(voterID int64, limit int) ([]service.ContactChange, error) {
	return t.contactChanges(`c.voter_id = $1 ORDER BY c.id DESC LIMIT $2`, voterID, limit)
}

// DecideContactChange is one conditional UPDATE: of concurrent deciders,
// on any instance, one matches.
func (t *Tx) DecideContactChange(id int64, state string, agentID int64, reason string, at time.Time) (bool, error) {
	ok, err := t.changed(`UPDATE contact_changes SET state = $1, decided_by = $2, decided_at = $3, decision_reason = $4
		WHERE id = $5 AND state = 'pending' AND expires_at > $3 AND ($1 <> 'approved' OR proposed_by <> $2)`,
		state, agentID, nanos(at), reason, id)
	return ok, errWrap("decide contact change", err)
}

func (t *Tx) SetContact(voterID int64, oldEmail, oldMobile, email, mobile string, at time.Time) (bool, error) {
	ok, err := t.changed(`UPDATE voters SET
		email_by_desk = CASE WHEN email <> $1 THEN $3 ELSE email_by_desk END,
		mobile_by_desk = CASE WHEN mobile <> $2 THEN $3 ELSE mobile_by_desk END,
		email = $1, mobile = $2
		WHERE id = $4 AND email = $5 AND mobile = $6`,
		email, mobile, nanos(at), voterID, oldEmail, oldMobile)
	return ok, errWrap("set contact", err)
}

// LockAddress locks the address's keyed hash until the transaction ends:
// two approvals moving two voters onto one address check and move one
// after the other.
func (t *Tx) LockAddress(key []byte) error { return t.lock(lockAddress, key) }
