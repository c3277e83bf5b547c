package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"consulvote/app/service"
)

// Tx is one transaction; it implements service.Tx.
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
}

var _ service.Tx = (*Tx)(nil)

// nanos stores a time; the zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// timeOf reads what nanos stored.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}

func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, query, args...)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return service.ErrNotFound
	}
	return err
}

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
	password_renewed_at, last_login_at`

func (t *Tx) voter(where string, arg any) (service.Voter, error) {
	var v service.Voter
	var locked, idRenewed, pwRenewed, lastLogin sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT `+voterColumns+` FROM voters WHERE `+where, arg).Scan(
		&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription, &v.Lang,
		&v.IdentifierHash, &v.PasswordHash, &v.FailedAttempts, &locked, &idRenewed, &pwRenewed, &lastLogin)
	if err != nil {
		return service.Voter{}, notFound(err)
	}
	v.LockedUntil, v.IdentifierRenewedAt = timeOf(locked), timeOf(idRenewed)
	v.PasswordRenewedAt, v.LastLoginAt = timeOf(pwRenewed), timeOf(lastLogin)
	return v, nil
}

func (t *Tx) VoterByID(id int64) (service.Voter, error) { return t.voter("id = ?", id) }

func (t *Tx) VoterByNUMIC(numic string) (service.Voter, error) { return t.voter("numic = ?", numic) }

func (t *Tx) VoterByIdentifier(hash []byte) (service.Voter, error) {
	return t.voter("identifier_hash = ?", hash)
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

func (t *Tx) AddFailure(voterID int64) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx,
		`UPDATE voters SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts`, voterID).Scan(&n)
	return n, notFound(err)
}

func (t *Tx) Lock(voterID int64, until time.Time) error {
	return t.updateVoter(`locked_until = ?, failed_attempts = 0`, voterID, nanos(until))
}

func (t *Tx) ClearFailures(voterID int64) error {
	return t.updateVoter(`failed_attempts = 0`, voterID)
}

func (t *Tx) InsertLink(l service.Link) (int64, error) {
	r, err := t.exec(`INSERT INTO links (voter_id, kind, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		l.VoterID, string(l.Kind), l.TokenHash, nanos(l.CreatedAt), nanos(l.ExpiresAt))
	if err != nil {
		return 0, fmt.Errorf("insert link: %w", err)
	}
	return r.LastInsertId()
}

func (t *Tx) LinkByTokenHash(hash []byte) (service.Link, error) {
	var l service.Link
	var kind string
	var created, expires, used, replaced, revoked sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, voter_id, kind, token_hash, created_at, expires_at, used_at,
		replaced_at, revoked_at FROM links WHERE token_hash = ?`, hash).Scan(
		&l.ID, &l.VoterID, &kind, &l.TokenHash, &created, &expires, &used, &replaced, &revoked)
	if err != nil {
		return service.Link{}, notFound(err)
	}
	l.Kind = service.LinkKind(kind)
	l.CreatedAt, l.ExpiresAt, l.UsedAt = timeOf(created), timeOf(expires), timeOf(used)
	l.ReplacedAt, l.RevokedAt = timeOf(replaced), timeOf(revoked)
	return l, nil
}

// pending is the condition of a link that can still be used (expiry aside).
const pending = `used_at IS NULL AND replaced_at IS NULL AND revoked_at IS NULL`

func (t *Tx) HasPendingLink(voterID int64, kind service.LinkKind, now time.Time) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM links WHERE voter_id = ? AND kind = ? AND `+pending+
		` AND expires_at > ?`, voterID, string(kind), nanos(now)).Scan(&n)
	return n > 0, err
}

func (t *Tx) ReplaceLinks(voterID int64, kind service.LinkKind, at time.Time) error {
	_, err := t.exec(`UPDATE links SET replaced_at = ? WHERE voter_id = ? AND kind = ? AND `+pending,
		nanos(at), voterID, string(kind))
	return err
}

func (t *Tx) ConsumeLink(id int64, at time.Time) (bool, error) {
	r, err := t.exec(`UPDATE links SET used_at = ? WHERE id = ? AND `+pending+` AND expires_at > ?`,
		nanos(at), id, nanos(at))
	if err != nil {
		return false, fmt.Errorf("consume link: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) RevokeLinks(voterID int64, at time.Time) error {
	_, err := t.exec(`UPDATE links SET revoked_at = ? WHERE voter_id = ? AND `+pending, nanos(at), voterID)
	return err
}

func (t *Tx) InsertSecurityCode(id string, hash []byte, expires time.Time) error {
	_, err := t.exec(`INSERT INTO security_codes (id, code_hash, expires_at) VALUES (?, ?, ?)`, id, hash, nanos(expires))
	return err
}

func (t *Tx) TakeSecurityCode(id string) ([]byte, time.Time, error) {
	var hash []byte
	var expires sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `DELETE FROM security_codes WHERE id = ? RETURNING code_hash, expires_at`, id).
		Scan(&hash, &expires)
	if err != nil {
		return nil, time.Time{}, notFound(err)
	}
	return hash, timeOf(expires), nil
}

func (t *Tx) PurgeSecurityCodes(expiredBy time.Time) error {
	_, err := t.exec(`DELETE FROM security_codes WHERE expires_at <= ?`, nanos(expiredBy))
	return err
}

func (t *Tx) RateEvents(key []byte, since time.Time) ([]time.Time, error) {
	if _, err := t.exec(`DELETE FROM rate_events WHERE key = ? AND at <= ?`, key, nanos(since)); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT at FROM rate_events WHERE key = ? ORDER BY at`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []time.Time
	for rows.Next() {
		var at sql.NullInt64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		ts = append(ts, timeOf(at))
	}
	return ts, rows.Err()
}

func (t *Tx) AddRateEvent(key []byte, at time.Time) error {
	_, err := t.exec(`INSERT INTO rate_events (key, at) VALUES (?, ?)`, key, nanos(at))
	return err
}

func (t *Tx) Enqueue(m service.Message) (int64, error) {
	var voter any
	if m.VoterID != 0 {
		voter = m.VoterID
	}
	r, err := t.exec(`INSERT INTO outbox (voter_id, channel, kind, recipient, subject, body, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		voter, string(m.Channel), m.Kind, m.Recipient, m.Subject, m.Body, nanos(m.CreatedAt), nanos(m.CreatedAt))
	if err != nil {
		return 0, fmt.Errorf("enqueue message: %w", err)
	}
	return r.LastInsertId()
}

const messageColumns = `id, COALESCE(voter_id, 0), channel, kind, recipient, subject, body, state, created_at, attempts, last_error`

func (t *Tx) messages(where string, args ...any) ([]service.Message, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+messageColumns+` FROM outbox WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []service.Message
	for rows.Next() {
		var m service.Message
		var channel string
		var created sql.NullInt64
		if err := rows.Scan(&m.ID, &m.VoterID, &channel, &m.Kind, &m.Recipient, &m.Subject, &m.Body,
			&m.State, &created, &m.Attempts, &m.LastError); err != nil {
			return nil, err
		}
		m.Channel, m.CreatedAt = service.Channel(channel), timeOf(created)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

func (t *Tx) Messages(limit int) ([]service.Message, error) {
	return t.messages(`1 ORDER BY id DESC LIMIT ?`, limit)
}

func (t *Tx) DueMessages(now time.Time, channels []service.Channel, limit int) ([]service.Message, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	in := strings.Repeat("?, ", len(channels)-1) + "?"
	args := []any{nanos(now)}
	for _, c := range channels {
		args = append(args, string(c))
	}
	return t.messages(`state = 'pending' AND next_attempt_at <= ? AND channel IN (`+in+`) ORDER BY next_attempt_at, id LIMIT ?`,
		append(args, limit)...)
}

func (t *Tx) MarkSent(id int64, at time.Time) error {
	// The sealed body goes once sent: a copy of a link or a password kept
	// for ever is one more to steal. What the desk shows stays.
	_, err := t.exec(`UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '', body = x'' WHERE id = ?`, nanos(at), id)
	return err
}

func (t *Tx) MarkAttempt(id int64, lastErr string, next time.Time, final bool) error {
	state := "pending"
	if final {
		state = "failed"
	}
	_, err := t.exec(`UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
		state, lastErr, nanos(next), id)
	return err
}

func (t *Tx) Audit(e service.AuditEntry) error {
	id, prev, err := t.LastAudit()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	id++
	var voter any
	if e.VoterID != 0 {
		voter = e.VoterID
	}
	_, err = t.exec(`INSERT INTO audit (id, at, actor, action, voter_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, nanos(e.At), e.Actor, e.Action, voter, e.Detail, prev, service.AuditHash(prev, id, e))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (t *Tx) LastAudit() (int64, []byte, error) {
	var id int64
	var hash []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1`).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return id, hash, err
}

func (t *Tx) AuditRows(fn func(service.AuditRow) error) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, at, actor, action, COALESCE(voter_id, 0), detail, prev_hash, hash FROM audit ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r service.AuditRow
		var at sql.NullInt64
		if err := rows.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return err
		}
		r.At = timeOf(at)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *Tx) InsertCheckpoint(c service.Checkpoint) error {
	_, err := t.exec(`INSERT INTO audit_checkpoints (audit_id, hash, mac, at) VALUES (?, ?, ?, ?)`, c.AuditID, c.Hash, c.MAC, nanos(c.At))
	return err
}

func (t *Tx) Checkpoints() ([]service.Checkpoint, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT audit_id, hash, mac, at FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []service.Checkpoint
	for rows.Next() {
		var c service.Checkpoint
		var at sql.NullInt64
		if err := rows.Scan(&c.AuditID, &c.Hash, &c.MAC, &at); err != nil {
			return nil, err
		}
		c.At = timeOf(at)
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

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

func (t *Tx) InsertAgent(a service.Agent) (int64, error) {
	r, err := t.exec(`INSERT INTO agents (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		a.Name, a.Role, a.PasswordHash, nanos(a.CreatedAt))
	if err != nil {
		return 0, fmt.Errorf("insert agent: %w", err)
	}
	return r.LastInsertId()
}

func (t *Tx) AgentByName(name string) (service.Agent, error) {
	var a service.Agent
	var created, locked sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, name, role, password_hash, created_at, locked_until FROM agents WHERE name = ?`, name).
		Scan(&a.ID, &a.Name, &a.Role, &a.PasswordHash, &created, &locked)
	a.CreatedAt, a.LockedUntil = timeOf(created), timeOf(locked)
	return a, notFound(err)
}

func (t *Tx) AgentFailed(agentID int64, max int, lockUntil time.Time) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `UPDATE agents SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts`, agentID).Scan(&n)
	if err != nil {
		return 0, notFound(err)
	}
	if n >= max {
		_, err = t.exec(`UPDATE agents SET failed_attempts = 0, locked_until = ? WHERE id = ?`, nanos(lockUntil), agentID)
	}
	return n, err
}

func (t *Tx) AgentSucceeded(agentID int64) error {
	_, err := t.exec(`UPDATE agents SET failed_attempts = 0 WHERE id = ?`, agentID)
	return err
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

func (t *Tx) PendingLinks(voterID int64, now time.Time) ([]service.Link, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT kind, created_at, expires_at FROM links
		WHERE voter_id = ? AND `+pending+` AND expires_at > ? ORDER BY id`, voterID, nanos(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []service.Link
	for rows.Next() {
		var l service.Link
		var kind string
		var created, expires sql.NullInt64
		if err := rows.Scan(&kind, &created, &expires); err != nil {
			return nil, err
		}
		l.VoterID, l.Kind, l.CreatedAt, l.ExpiresAt = voterID, service.LinkKind(kind), timeOf(created), timeOf(expires)
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

func (t *Tx) VoterMessages(voterID int64, limit int) ([]service.Message, error) {
	return t.messages(`voter_id = ? ORDER BY id DESC LIMIT ?`, voterID, limit)
}

func (t *Tx) VoterHistory(voterID int64, limit int) ([]service.AuditEntry, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT at, actor, action, detail FROM audit WHERE voter_id = ? ORDER BY id DESC LIMIT ?`, voterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []service.AuditEntry
	for rows.Next() {
		e := service.AuditEntry{VoterID: voterID}
		var at sql.NullInt64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At = timeOf(at)
		es = append(es, e)
	}
	return es, rows.Err()
}

func (t *Tx) Unlock(voterID int64) error {
	return t.updateVoter(`locked_until = NULL, failed_attempts = 0`, voterID)
}

func (t *Tx) OutboxCounts() (map[string]int, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{"pending": 0, "sent": 0, "failed": 0}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[state] = n
	}
	return counts, rows.Err()
}

func (t *Tx) FailedMessages(limit int) ([]service.Message, error) {
	return t.messages(`state = 'failed' ORDER BY id DESC LIMIT ?`, limit)
}

func (t *Tx) Requeue(id int64, now time.Time) (bool, error) {
	r, err := t.exec(`UPDATE outbox SET state = 'pending', next_attempt_at = ?, attempts = 0 WHERE id = ? AND state = 'failed'`, nanos(now), id)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) VotersByNUMIC(numics []string) (map[string]service.Voter, error) {
	out := make(map[string]service.Voter, len(numics))
	const chunk = 500 // well under SQLite's limit on bound parameters
	for len(numics) > 0 {
		n := min(chunk, len(numics))
		args := make([]any, n)
		for i, s := range numics[:n] {
			args[i] = s
		}
		rows, err := t.tx.QueryContext(t.ctx, `SELECT id, numic, email, last_name, first_names, mobile, circonscription
			FROM voters WHERE numic IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v service.Voter
			if err := rows.Scan(&v.ID, &v.NUMIC, &v.Email, &v.LastName, &v.FirstNames, &v.Mobile, &v.Circonscription); err != nil {
				rows.Close()
				return nil, err
			}
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

func (t *Tx) UpdateRollData(v service.Voter) error {
	return t.updateVoter(`email = ?, last_name = ?, first_names = ?, mobile = ?, circonscription = ?`, v.ID,
		v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription)
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

// like escapes s for a LIKE pattern that contains it.
func like(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
}

func (t *Tx) AuditSearch(actor, action string, voterID int64, limit int) ([]service.AuditEntry, error) {
	q := `SELECT at, actor, action, COALESCE(voter_id, 0), detail FROM audit
		WHERE actor LIKE ? ESCAPE '\' AND action LIKE ? ESCAPE '\'`
	args := []any{like(actor), like(action)}
	if voterID != 0 {
		q += ` AND voter_id = ?`
		args = append(args, voterID)
	}
	rows, err := t.tx.QueryContext(t.ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []service.AuditEntry
	for rows.Next() {
		var e service.AuditEntry
		var at sql.NullInt64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.VoterID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = timeOf(at)
		es = append(es, e)
	}
	return es, rows.Err()
}
