package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"consulvote/app/service"
)

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
	if err != nil {
		return service.ContactChange{}, err
	}
	if len(cs) == 0 {
		return service.ContactChange{}, service.ErrNotFound
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
