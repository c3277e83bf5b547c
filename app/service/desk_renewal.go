package service

import (
	"context"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// StartRenewal implements portal.Desk: the renewal a voter would request,
// started by an agent for a voter on the phone or at the desk. It sends
// the usual link (identifier) or SMS (password) to what is on file, under
// the voter's own rules (a lock, the per-NUMIC limit, "not both at once"
// and its cool-down) and a limit per agent. The credential, the link and
// its token are drawn here and leave only sealed in the outbox: the agent
// gets the channel and the address, never what was sent.
func (s *Office) StartRenewal(ctx context.Context, token string, voterID int64, kind portal.RenewalKind, why string) (portal.DeskRenewal, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return portal.DeskRenewal{}, err
	}
	if kind != portal.RenewIdentifier && kind != portal.RenewPassword {
		return portal.DeskRenewal{}, portal.InvalidInput(portal.FieldError{Field: portal.FieldKind, Reason: portal.ReasonFormat})
	}
	if why, err = reason(why); err != nil {
		return portal.DeskRenewal{}, err
	}
	r := deskRenewal{agent: a, kind: kind, why: why}
	// Drawn before the transaction: the password's hash is the slow part
	// and must not hold the write lock.
	if kind == portal.RenewIdentifier {
		r.secret, err = s.token()
	} else if r.secret, err = s.newCredential(); err == nil {
		r.hash, err = s.hashPassword(ctx, r.secret)
	}
	if err != nil {
		return portal.DeskRenewal{}, err
	}
	if r.msgID, err = s.messageID(); err != nil {
		return portal.DeskRenewal{}, err
	}
	r.now = s.clock.Now()
	var out portal.DeskRenewal
	err = s.store.Update(ctx, func(tx Tx) error {
		v, err := scopedVoter(tx, a, voterID)
		if err != nil {
			return err
		}
		if e, rule, err := s.deskRenewalRefused(tx, r, v); err != nil {
			return err
		} else if e != nil {
			return commit(e, s.audit(tx, AuditEntry{At: r.now, Actor: agentActor(a), Action: "desk.renewal.refused", VoterID: v.ID,
				Detail: facts("kind", string(kind), "why", rule, "reason", why)}))
		}
		if kind == portal.RenewPassword {
			out = portal.DeskRenewal{Kind: kind, Channel: string(ChannelSMS), Recipient: v.Mobile}
			return s.renewPassword(tx, v, r.secret, r.hash, r.msgID, r.now, AuditEntry{At: r.now, Actor: agentActor(a),
				Action: "desk.renewal.password", VoterID: v.ID, Detail: facts("reason", why, "to", v.Mobile)})
		}
		out, err = s.deskIdentifierLink(tx, r, v)
		return err
	})
	if err := answer("desk renewal", err); err != nil {
		return portal.DeskRenewal{}, err
	}
	s.log.InfoContext(ctx, "renewal started by the desk", "kind", string(kind), "voter", voterID, "agent", a.Name)
	return out, nil
}

// deskRenewal is a renewal an agent starts: its secret (a link's token,
// or a password and its hash) and message id drawn before the
// transaction.
type deskRenewal struct {
	agent               Agent
	kind                portal.RenewalKind
	why                 string // the agent's reason
	secret, hash, msgID string
	now                 time.Time
}

// deskRenewalRefused returns the refusal of r for voter v and its rule
// (for the audit log), or nil after counting r against the agent's and
// the voter's limits.
func (s *core) deskRenewalRefused(tx Tx, r deskRenewal, v Voter) (refusal error, rule string, err error) {
	now := r.now
	if now.Before(v.LockedUntil) {
		return &portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}, "locked", nil
	}
	// The same keys as the voter's own requests: the desk and the
	// voter share one limit.
	voterKey, pending, lastOther := s.mac("numic", v.NUMIC), LinkKind(""), v.PasswordRenewedAt
	if r.kind == portal.RenewPassword {
		voterKey, pending, lastOther = s.mac("numic-password", v.NUMIC), LinkIdentifier, v.IdentifierRenewedAt
	}
	agentKey := s.mac("desk-agent", r.agent.Name)
	events, err := tx.RateEvents(now.Add(-s.cfg.RateWindow), agentKey, voterKey)
	if err != nil {
		return nil, "", err
	}
	for i, l := range []struct {
		max  int
		rule string
	}{{s.cfg.DeskRenewals, "agent_limit"}, {s.cfg.MaxRequests, "voter_limit"}} {
		if recent := events[i]; len(recent) >= l.max {
			return &portal.Error{Code: portal.CodeRateLimited, Until: recent[0].Add(s.cfg.RateWindow)}, l.rule, nil
		}
	}
	if until, ok, err := s.conflict(tx, v, pending, lastOther, now); err != nil {
		return nil, "", err
	} else if ok {
		return &portal.Error{Code: portal.CodeRenewalConflict, Until: until}, "not_both", nil
	}
	if r.kind == portal.RenewPassword && !portal.ValidMobile(v.Mobile) {
		return portal.ErrNoMobile, "no_mobile", nil
	}
	for _, k := range [][]byte{agentKey, voterKey} {
		if err := tx.AddRateEvent(k, now); err != nil {
			return nil, "", err
		}
	}
	return nil, "", nil
}

// deskIdentifierLink replaces v's identifier links by r's, and queues
// the e-mail that carries it.
func (s *core) deskIdentifierLink(tx Tx, r deskRenewal, v Voter) (portal.DeskRenewal, error) {
	now, expires := r.now, r.now.Add(s.cfg.LinkTTL)
	if _, err := tx.InsertLink(Link{VoterID: v.ID, Kind: LinkIdentifier, TokenHash: s.mac("link", r.secret),
		CreatedAt: now, ExpiresAt: expires}); err != nil {
		return portal.DeskRenewal{}, err
	}
	msg, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: r.msgID},
		portal.LinkURL(s.cfg.PublicURL, r.secret), expires)
	if err != nil {
		return portal.DeskRenewal{}, err
	}
	if err := s.enqueue(tx, v, "identifier.link", msg, now); err != nil {
		return portal.DeskRenewal{}, err
	}
	return portal.DeskRenewal{Kind: r.kind, Channel: string(ChannelEmail), Recipient: v.Email, ExpiresAt: expires},
		s.audit(tx, AuditEntry{At: now, Actor: agentActor(r.agent), Action: "desk.renewal.identifier", VoterID: v.ID,
			Detail: facts("reason", r.why, "to", v.Email, "expires", stamp(expires))})
}

var _ portal.Desk = (*Office)(nil)
