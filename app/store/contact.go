package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"consulvote/app/service"
)

func (t *Tx) InsertContactChange(c service.ContactChange) (int64, error) {
	// The partial unique index allows one pending proposal per voter; a
	// second one inserts nothing and returns no row.
	var id int64
	err := t.tx.QueryRowContext(t.ctx, `INSERT INTO contact_changes (voter_id, old_email, new_email, old_mobile,
		new_mobile, document, reason, proposed_by, proposed_at, expires_at, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT DO NOTHING RETURNING id`,
		c.VoterID, c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile, c.Document, c.Reason, c.ProposedBy,
		nanos(c.ProposedAt), nanos(c.ExpiresAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, service.ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("insert contact change: %w", err)
	}
	return id, nil
}

const changeColumns = `c.id, c.voter_id, c.old_email, c.new_email, c.old_mobile, c.new_mobile, c.document, c.reason,
	c.proposed_by, p.name, c.proposed_at, c.expires_at, c.state, COALESCE(c.decided_by, 0), COALESCE(d.name, ''),
	c.decided_at, c.decision_reason
	FROM contact_changes c JOIN agents p ON p.id = c.proposed_by LEFT JOIN agents d ON d.id = c.decided_by`

func (t *Tx) contactChanges(where string, args ...any) ([]service.ContactChange, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+changeColumns+` WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []service.ContactChange
	for rows.Next() {
		var c service.ContactChange
		var proposed, expires, decided sql.NullInt64
		if err := rows.Scan(&c.ID, &c.VoterID, &c.OldEmail, &c.NewEmail, &c.OldMobile, &c.NewMobile, &c.Document,
			&c.Reason, &c.ProposedBy, &c.ProposedByName, &proposed, &expires, &c.State, &c.DecidedBy,
			&c.DecidedByName, &decided, &c.DecisionReason); err != nil {
			return nil, err
		}
		c.ProposedAt, c.ExpiresAt, c.DecidedAt = timeOf(proposed), timeOf(expires), timeOf(decided)
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

func (t *Tx) ExpireContactChanges(now time.Time) ([]service.ContactChange, error) {
	cs, err := t.contactChanges(`c.state = 'pending' AND c.expires_at <= ? ORDER BY c.id`, nanos(now))
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	for i := range cs {
		// Conditional, like every change of state: a proposal decided
		// meanwhile stays decided.
		r, err := t.exec(`UPDATE contact_changes SET state = 'expired' WHERE id = ? AND state = 'pending' AND expires_at <= ?`,
			cs[i].ID, nanos(now))
		if err != nil {
			return nil, err
		}
		if n, _ := r.RowsAffected(); n == 1 {
			cs[i].State = service.ChangeExpired
		}
	}
	out := cs[:0]
	for _, c := range cs {
		if c.State == service.ChangeExpired {
			out = append(out, c)
		}
	}
	return out, nil
}

func (t *Tx) ContactChangeByID(id int64) (service.ContactChange, error) {
	cs, err := t.contactChanges(`c.id = ?`, id)
	if err != nil {
		return service.ContactChange{}, err
	}
	if len(cs) == 0 {
		return service.ContactChange{}, service.ErrNotFound
	}
	return cs[0], nil
}

func (t *Tx) PendingContactChanges(now time.Time, limit int) ([]service.ContactChange, error) {
	return t.contactChanges(`c.state = 'pending' AND c.expires_at > ? ORDER BY c.id LIMIT ?`, nanos(now), limit)
}

func (t *Tx) VoterContactChanges(voterID int64, limit int) ([]service.ContactChange, error) {
	return t.contactChanges(`c.voter_id = ? ORDER BY c.id DESC LIMIT ?`, voterID, limit)
}

func (t *Tx) DecideContactChange(id int64, state string, agentID int64, reason string, at time.Time) (bool, error) {
	// One conditional update decides: pending, not expired, and for an
	// approval not by the proposer. Of concurrent deciders one matches.
	r, err := t.exec(`UPDATE contact_changes SET state = ?, decided_by = ?, decided_at = ?, decision_reason = ?
		WHERE id = ? AND state = 'pending' AND expires_at > ? AND (? <> 'approved' OR proposed_by <> ?)`,
		state, agentID, nanos(at), reason, id, nanos(at), state, agentID)
	if err != nil {
		return false, fmt.Errorf("decide contact change: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

func (t *Tx) SetContact(voterID int64, oldEmail, oldMobile, email, mobile string, at time.Time) (bool, error) {
	r, err := t.exec(`UPDATE voters SET
		email_by_desk = CASE WHEN email <> ? THEN ? ELSE email_by_desk END,
		mobile_by_desk = CASE WHEN mobile <> ? THEN ? ELSE mobile_by_desk END,
		email = ?, mobile = ?
		WHERE id = ? AND email = ? AND mobile = ?`,
		email, nanos(at), mobile, nanos(at), email, mobile, voterID, oldEmail, oldMobile)
	if err != nil {
		return false, fmt.Errorf("set contact: %w", err)
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// LockAddress has nothing to do: the store has one writer connection, so
// the approval that checks an address and moves a voter onto it runs
// whole before the next one starts.
func (t *Tx) LockAddress([]byte) error { return nil }
