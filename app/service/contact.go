package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// The help desk's change of contact details: one agent proposes it after
// the identity check the consulate's procedure requires (the document
// seen, and why), another approves it, and only then does anything
// change. The single-use rules (one pending proposal per voter, one
// decision per proposal, none after expiry, never by the proposer) are
// decided in the database, so that concurrent approvals, or several
// server instances, apply a change once.

// ProposeContactChange implements portal.Desk.
func (s *Office) ProposeContactChange(ctx context.Context, token string, req portal.ContactChangeRequest) (portal.ContactChange, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return portal.ContactChange{}, err
	}
	req = req.Normalize()
	if err := req.Validate(); err != nil {
		return portal.ContactChange{}, err
	}
	now := s.clock.Now()
	var out portal.ContactChange
	err = s.store.Update(ctx, func(tx Tx) (err error) {
		out, err = s.propose(tx, a, req, now)
		return err
	})
	if err := answer("propose contact change", err); err != nil {
		return portal.ContactChange{}, err
	}
	s.log.InfoContext(ctx, "contact change proposed", "change", out.ID, "voter", out.VoterID, "agent", a.Name)
	return out, nil
}

// propose is ProposeContactChange's transaction.
func (s *Office) propose(tx Tx, a Agent, req portal.ContactChangeRequest, now time.Time) (portal.ContactChange, error) {
	// Locks and writes first, audit entries last, in every desk
	// transaction.
	v, err := scopedVoter(tx, a, req.VoterID)
	if err != nil {
		return portal.ContactChange{}, err
	}
	expired, err := s.expireChanges(tx, now)
	if err != nil {
		return portal.ContactChange{}, err
	}
	refuse := func(e error, why string, more ...string) error {
		return commit(e, s.auditAll(tx, append(expired, AuditEntry{At: now, Actor: agentActor(a), Action: "contact.change.refused", VoterID: v.ID,
			Detail: facts(append([]string{"why", why, "document", string(req.Document), "reason", req.Reason}, more...)...)})...))
	}
	if now.Before(v.LockedUntil) {
		// A lock means someone is guessing this voter's credentials:
		// the desk lifts it first, deliberately, with its own reason.
		return portal.ContactChange{}, refuse(&portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}, "locked")
	}
	c := ContactChange{VoterID: v.ID, OldEmail: v.Email, OldMobile: v.Mobile, Document: string(req.Document),
		Reason: req.Reason, ProposedBy: a.ID, ProposedAt: now, ExpiresAt: now.Add(s.cfg.ChangeTTL), State: ChangePending}
	fs, takenEmail, err := proposedContacts(tx, req, v, &c)
	if err != nil {
		return portal.ContactChange{}, err
	}
	if takenEmail != "" {
		return portal.ContactChange{}, refuse(portal.InvalidInput(fs...), "email_taken", "email_new", takenEmail)
	}
	if len(fs) > 0 {
		return portal.ContactChange{}, commit(portal.InvalidInput(fs...), s.auditAll(tx, expired...))
	}
	c.ID, err = tx.InsertContactChange(c)
	if errors.Is(err, ErrConflict) {
		return portal.ContactChange{}, refuse(portal.ErrChangePending, "pending")
	}
	if err != nil {
		return portal.ContactChange{}, err
	}
	c.ProposedByName = a.Name
	return contactChange(c, v, now), s.auditAll(tx, append(expired, AuditEntry{At: now, Actor: agentActor(a), Action: "contact.change.proposed", VoterID: v.ID,
		Detail: changeFacts(c, "expires", stamp(c.ExpiresAt))})...)
}

// proposedContacts sets in c the new e-mail and mobile of req for voter
// v, and returns the fields refused: unchanged, or an address another
// voter has (takenEmail, audited as a refusal, not mere bad input).
func proposedContacts(tx Tx, req portal.ContactChangeRequest, v Voter, c *ContactChange) (fs []portal.FieldError, takenEmail string, err error) {
	if req.Email != "" {
		taken, err := emailTaken(tx, req.Email, v.ID)
		switch {
		case err != nil:
			return nil, "", err
		case req.Email == v.Email:
			fs = append(fs, portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonUnchanged})
		case taken:
			fs = append(fs, portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonTaken})
			takenEmail = req.Email
		default:
			c.NewEmail = req.Email
		}
	}
	if req.Mobile != "" {
		if req.Mobile == v.Mobile {
			fs = append(fs, portal.FieldError{Field: portal.FieldMobile, Reason: portal.ReasonUnchanged})
		} else {
			c.NewMobile = req.Mobile
		}
	}
	return fs, takenEmail, nil
}

// errStale rolls back an approval whose voter changed under it.
var errStale = errors.New("contact changed since the proposal")

// ApproveContactChange implements portal.Desk.
func (s *Office) ApproveContactChange(ctx context.Context, token string, id int64) (portal.ContactChange, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return portal.ContactChange{}, err
	}
	var msgIDs [2]string
	for i := range msgIDs {
		if msgIDs[i], err = s.messageID(); err != nil {
			return portal.ContactChange{}, err
		}
	}
	now := s.clock.Now()
	var out portal.ContactChange
	err = s.store.Update(ctx, func(tx Tx) (err error) { out, err = s.approveChange(tx, a, id, msgIDs, now); return err })
	if errors.Is(err, errStale) {
		// Roll back, then record the refusal on its own.
		err = s.store.Update(ctx, func(tx Tx) error {
			c, err := tx.ContactChangeByID(id)
			if err != nil {
				return err
			}
			return s.refuseApproval(tx, a, c, nil, now, portal.ErrContactStale, "stale")
		})
	}
	if err := answer("approve contact change", err); err != nil {
		return portal.ContactChange{}, err
	}
	s.log.InfoContext(ctx, "contact change approved", "change", out.ID, "voter", out.VoterID, "agent", a.Name)
	return out, nil
}

// approveChange is ApproveContactChange's transaction: a applies change
// id, or the refusal is committed with its audit entry.
func (s *core) approveChange(tx Tx, a Agent, id int64, msgIDs [2]string, now time.Time) (portal.ContactChange, error) {
	c, v, expired, err := s.lockChange(tx, a, id, now)
	if err != nil {
		return portal.ContactChange{}, err
	}
	if e, why, err := s.approvalRefused(tx, a, c, v, now); err != nil {
		return portal.ContactChange{}, err
	} else if e != nil {
		return portal.ContactChange{}, s.refuseApproval(tx, a, c, expired, now, e, why)
	}
	ok, err := tx.DecideContactChange(c.ID, ChangeApproved, a.ID, "", now)
	if err != nil {
		return portal.ContactChange{}, err
	}
	if !ok { // decided by someone else meanwhile (a store with concurrent writers)
		c, err = tx.ContactChangeByID(id)
		if err != nil {
			return portal.ContactChange{}, err
		}
		why, e := s.closed(c, a, now)
		if e == nil {
			why, e = "decided", portal.ErrChangeDecided
		}
		return portal.ContactChange{}, s.refuseApproval(tx, a, c, expired, now, e, why)
	}
	email, mobile := cmp(c.NewEmail, c.OldEmail), cmp(c.NewMobile, c.OldMobile)
	if ok, err := tx.SetContact(v.ID, c.OldEmail, c.OldMobile, email, mobile, now); err != nil {
		return portal.ContactChange{}, err
	} else if !ok {
		return portal.ContactChange{}, errStale
	}
	linkCancelled, err := revokeForNewEmail(tx, v, c, now)
	if err != nil {
		return portal.ContactChange{}, err
	}
	if err := s.contactNotices(tx, v, c, linkCancelled, msgIDs, now); err != nil {
		return portal.ContactChange{}, err
	}
	c.State, c.DecidedBy, c.DecidedByName, c.DecidedAt = ChangeApproved, a.ID, a.Name, now
	v.Email, v.Mobile = email, mobile
	return contactChange(c, v, now), s.auditAll(tx, append(expired, AuditEntry{At: now, Actor: agentActor(a), Action: "contact.change.approved", VoterID: v.ID,
		Detail: changeFacts(c, "proposer", c.ProposedByName, "links_cancelled", strconv.FormatBool(linkCancelled))})...)
}

// lockChange reads change id and its voter for a's approval, locked in
// the order that serialises concurrent approvals, and expires the
// changes past their lifetime (their audit entries, returned, come last).
func (s *core) lockChange(tx Tx, a Agent, id int64, now time.Time) (ContactChange, Voter, []AuditEntry, error) {
	c, err := tx.ContactChangeByID(id)
	if err != nil {
		return ContactChange{}, Voter{}, nil, err
	}
	if c.NewEmail != "" {
		// Approvals moving other voters onto this address wait here,
		// so that the check below sees the one that went first.
		if err := tx.LockAddress(s.mac("desk-address", c.NewEmail)); err != nil {
			return ContactChange{}, Voter{}, nil, err
		}
	}
	// The voter's row, locked in a write transaction on PostgreSQL,
	// orders concurrent approvals; the proposal is read again after
	// it, so that the one that waited sees the first one's decision
	// (and says "decided", not "stale"). Audit entries come last.
	v, err := scopedVoter(tx, a, c.VoterID)
	if err != nil {
		return ContactChange{}, Voter{}, nil, err
	}
	expired, err := s.expireChanges(tx, now)
	if err != nil {
		return ContactChange{}, Voter{}, nil, err
	}
	c, err = tx.ContactChangeByID(id)
	return c, v, expired, err
}

// approvalRefused returns the refusal of a's approval of c for voter v,
// and why (for the audit log); nil if nothing stands in the way.
func (s *core) approvalRefused(tx Tx, a Agent, c ContactChange, v Voter, now time.Time) (refusal error, why string, err error) {
	if why, e := s.closed(c, a, now); e != nil {
		return e, why, nil
	}
	if !s.permissions(a).ApproveContactChanges {
		return portal.ErrForbidden, "not_admin", nil
	}
	if now.Before(v.LockedUntil) {
		return &portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}, "locked", nil
	}
	if v.Email != c.OldEmail || v.Mobile != c.OldMobile {
		return portal.ErrContactStale, "stale", nil
	}
	if c.NewEmail != "" {
		if taken, err := emailTaken(tx, c.NewEmail, v.ID); err != nil {
			return nil, "", err
		} else if taken {
			return portal.InvalidInput(portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonTaken}), "email_taken", nil
		}
	}
	return nil, "", nil
}

// refuseApproval commits refusal e of a's approval of c, with the audit
// entries of the changes expired and the refusal's (why).
func (s *core) refuseApproval(tx Tx, a Agent, c ContactChange, expired []AuditEntry, now time.Time, e error, why string) error {
	return commit(e, s.auditAll(tx, append(expired, AuditEntry{At: now, Actor: agentActor(a), Action: "contact.change.approval_refused",
		VoterID: c.VoterID, Detail: facts("change", strconv.FormatInt(c.ID, 10), "proposer", c.ProposedByName, "why", why)})...))
}

// revokeForNewEmail revokes v's pending links when c changes the e-mail
// address (the link went to the old address: it dies with it), and
// reports whether there were any.
func revokeForNewEmail(tx Tx, v Voter, c ContactChange, now time.Time) (bool, error) {
	if c.NewEmail == "" {
		return false, nil
	}
	links, err := tx.PendingLinks(v.ID, now)
	if err != nil || len(links) == 0 {
		return false, err
	}
	return true, tx.RevokeLinks(v.ID, now)
}

// closed returns why c cannot be decided by a at now, if it cannot: it
// is no longer pending, or expired, or a is its proposer (for an
// approval; a proposer may withdraw).
func (s *core) closed(c ContactChange, a Agent, now time.Time) (why string, err error) {
	switch c.StateAt(now) {
	case ChangePending:
	case ChangeExpired:
		return "expired", portal.ErrChangeExpired
	default:
		return "decided", portal.ErrChangeDecided
	}
	if c.ProposedBy == a.ID {
		return "self", portal.ErrSelfApproval
	}
	return "", nil
}

// RejectContactChange implements portal.Desk.
func (s *Office) RejectContactChange(ctx context.Context, token string, id int64, why string) (portal.ContactChange, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return portal.ContactChange{}, err
	}
	if why, err = reason(why); err != nil {
		return portal.ContactChange{}, err
	}
	now := s.clock.Now()
	var out portal.ContactChange
	err = s.store.Update(ctx, func(tx Tx) error {
		c, err := tx.ContactChangeByID(id)
		if err != nil {
			return err
		}
		// As an approval: the voter's row, then the writes, then the audit.
		v, err := scopedVoter(tx, a, c.VoterID)
		if err != nil {
			return err
		}
		expired, err := s.expireChanges(tx, now)
		if err != nil {
			return err
		}
		if c, err = tx.ContactChangeByID(id); err != nil {
			return err
		}
		state, action := ChangeRejected, "contact.change.rejected"
		if c.ProposedBy == a.ID {
			state, action = ChangeWithdrawn, "contact.change.withdrawn"
		}
		ok := false
		if c.StateAt(now) == ChangePending {
			if ok, err = tx.DecideContactChange(c.ID, state, a.ID, why, now); err != nil {
				return err
			}
		}
		if !ok {
			if c, err = tx.ContactChangeByID(id); err != nil {
				return err
			}
			refused := portal.ErrChangeDecided
			if c.StateAt(now) == ChangeExpired {
				refused = portal.ErrChangeExpired
			}
			return commit(refused, s.auditAll(tx, expired...))
		}
		c.State, c.DecidedBy, c.DecidedByName, c.DecidedAt, c.DecisionReason = state, a.ID, a.Name, now, why
		out = contactChange(c, v, now)
		return s.auditAll(tx, append(expired, AuditEntry{At: now, Actor: agentActor(a), Action: action, VoterID: c.VoterID,
			Detail: facts("change", strconv.FormatInt(c.ID, 10), "proposer", c.ProposedByName, "reason", why)})...)
	})
	if err := answer("reject contact change", err); err != nil {
		return portal.ContactChange{}, err
	}
	return out, nil
}

// PendingContactChanges implements portal.Desk.
func (s *Office) PendingContactChanges(ctx context.Context, token string) ([]portal.ContactChange, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out []portal.ContactChange
	err = s.store.View(ctx, func(tx Tx) error {
		cs, err := tx.PendingContactChanges(now, 200)
		if err != nil {
			return err
		}
		for _, c := range cs {
			v, err := scopedVoter(tx, a, c.VoterID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, contactChange(c, v, now))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending contact changes: %w", err)
	}
	return out, nil
}

// expireChanges marks the proposals that expired unapproved, and returns
// their audit entries (a proposal nobody approved in time is a step too),
// for the caller to append after its other writes.
func (s *core) expireChanges(tx ContactChanges, now time.Time) ([]AuditEntry, error) {
	cs, err := tx.ExpireContactChanges(now)
	if err != nil {
		return nil, err
	}
	es := make([]AuditEntry, len(cs))
	for i, c := range cs {
		es[i] = AuditEntry{At: now, Actor: "system", Action: "contact.change.expired", VoterID: c.VoterID,
			Detail: facts("change", strconv.FormatInt(c.ID, 10), "proposer", c.ProposedByName)}
	}
	return es, nil
}

// auditAll appends es to the audit log, in order.
func (s *core) auditAll(tx AuditLog, es ...AuditEntry) error {
	for _, e := range es {
		if err := s.audit(tx, e); err != nil {
			return err
		}
	}
	return nil
}

// contactNotices queues the notices of an approved change: an e-mail to
// the old and the new address (to the address on file when only the
// mobile changed), and an SMS to the old and the new mobile. None holds a
// secret.
func (s *core) contactNotices(tx Outbox, v Voter, c ContactChange, linkCancelled bool, msgIDs [2]string, now time.Time) error {
	n := mail.ContactNotice{Email: c.NewEmail != "", Mobile: c.NewMobile != "", LinkCancelled: linkCancelled}
	to := []string{c.OldEmail}
	if n.Email {
		to = append(to, c.NewEmail)
	}
	for i, addr := range to {
		n.ToNew = i == 1
		msg, err := s.cfg.Mail.ContactChanged(mail.Envelope{To: addr, Lang: v.Lang, Date: now, MessageID: msgIDs[i]}, n)
		if err != nil {
			return err
		}
		if err := s.enqueue(tx, v, "contact.changed", msg, now); err != nil {
			return err
		}
	}
	if !n.Mobile {
		return nil
	}
	for _, m := range []struct {
		to    string
		toNew bool
	}{{c.OldMobile, false}, {c.NewMobile, true}} {
		if !portal.ValidMobile(m.to) {
			continue // an old number the roll had wrong: nowhere to send
		}
		if err := s.queue(tx, Message{VoterID: v.ID, Channel: ChannelSMS, Kind: "contact.changed", Recipient: m.to,
			Body: []byte(mail.MobileChangedSMS(v.Lang, m.toNew)), CreatedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// answer is what a desk action answers once its transaction ended: the
// refusal it committed, else the store's failure (wrapped with what), else
// nil.
func answer(what string, err error) error {
	var refusal *CommitError
	switch {
	case errors.As(err, &refusal):
		return refusal.Err
	case errors.Is(err, ErrNotFound):
		return portal.ErrNotFound
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// emailTaken reports whether a voter other than voterID has that e-mail.
func emailTaken(tx Voters, email string, voterID int64) (bool, error) {
	vs, err := tx.FindVoters("", email, 2)
	if err != nil {
		return false, err
	}
	for _, o := range vs {
		if o.ID != voterID && o.Email == email {
			return true, nil
		}
	}
	return false, nil
}

func cmp(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

func contactChange(c ContactChange, v Voter, now time.Time) portal.ContactChange {
	return portal.ContactChange{ID: c.ID, VoterID: c.VoterID, NUMIC: v.NUMIC, VoterName: strings.TrimSpace(v.LastName + " " + v.FirstNames),
		OldEmail: c.OldEmail, NewEmail: c.NewEmail, OldMobile: c.OldMobile, NewMobile: c.NewMobile,
		Document: portal.Document(c.Document), Reason: c.Reason, ProposedBy: c.ProposedByName, ProposedAt: c.ProposedAt,
		ExpiresAt: c.ExpiresAt, State: portal.ChangeState(c.StateAt(now)), DecidedBy: c.DecidedByName, DecidedAt: c.DecidedAt,
		DecisionReason: c.DecisionReason}
}

// changeFacts are the facts of a proposal for the audit log: what
// changes, from what to what, on which document and why.
func changeFacts(c ContactChange, more ...string) string {
	kv := []string{"change", strconv.FormatInt(c.ID, 10), "document", c.Document, "reason", c.Reason}
	if c.NewEmail != "" {
		kv = append(kv, "email_old", c.OldEmail, "email_new", c.NewEmail)
	}
	if c.NewMobile != "" {
		kv = append(kv, "mobile_old", c.OldMobile, "mobile_new", c.NewMobile)
	}
	return facts(append(kv, more...)...)
}

// facts writes an audit entry's details as a JSON object of strings, from
// name and value pairs: unambiguous whatever an agent typed, and read back
// by name (Params) for the screens to say in words.
func facts(kv ...string) string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m) // a map of strings always marshals; keys come sorted
	return string(b)
}

// params reads an audit entry's details back by name: the JSON object of
// facts, or the few plain forms other entries use ("reason: …" of older
// desk entries, "failure 3", "until …", "while locked").
func params(detail string) map[string]string {
	if strings.HasPrefix(detail, "{") {
		var m map[string]string
		if json.Unmarshal([]byte(detail), &m) == nil {
			return m
		}
	}
	for _, p := range []string{"reason", "failure", "until"} {
		if v, ok := strings.CutPrefix(detail, p+" "); ok {
			return map[string]string{p: strings.TrimPrefix(v, ": ")}
		}
	}
	if r, ok := strings.CutPrefix(detail, "reason: "); ok {
		return map[string]string{"reason": r}
	}
	if detail == "while locked" {
		return map[string]string{"while_locked": "true"}
	}
	return nil
}

// stamp writes a time for the audit log's facts.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
