package service

import (
	"context"

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
	// Drawn before the transaction: the password's hash is the slow part
	// and must not hold the write lock.
	var secret, hash string
	if kind == portal.RenewIdentifier {
		secret, err = s.token()
	} else if secret, err = s.newCredential(); err == nil {
		hash, err = s.hashPassword(ctx, secret)
	}
	if err != nil {
		return portal.DeskRenewal{}, err
	}
	msgID, err := s.messageID()
	if err != nil {
		return portal.DeskRenewal{}, err
	}

	now := s.clock.Now()
	var out portal.DeskRenewal
	err = s.store.Update(ctx, func(tx Tx) error {
		v, err := scopedVoter(tx, a, voterID)
		if err != nil {
			return err
		}
		refuse := func(e error, rule string) error {
			return commit(e, s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "desk.renewal.refused", VoterID: v.ID,
				Detail: facts("kind", string(kind), "why", rule, "reason", why)}))
		}
		if now.Before(v.LockedUntil) {
			return refuse(&portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}, "locked")
		}
		// The same keys as the voter's own requests: the desk and the
		// voter share one limit.
		voterKey, pending, lastOther := s.mac("numic", v.NUMIC), LinkKind(""), v.PasswordRenewedAt
		if kind == portal.RenewPassword {
			voterKey, pending, lastOther = s.mac("numic-password", v.NUMIC), LinkIdentifier, v.IdentifierRenewedAt
		}
		agentKey := s.mac("desk-agent", a.Name)
		for _, l := range []struct {
			key  []byte
			max  int
			rule string
		}{{agentKey, s.cfg.DeskRenewals, "agent_limit"}, {voterKey, s.cfg.MaxRequests, "voter_limit"}} {
			recent, err := tx.RateEvents(l.key, now.Add(-s.cfg.RateWindow))
			if err != nil {
				return err
			}
			if len(recent) >= l.max {
				return refuse(&portal.Error{Code: portal.CodeRateLimited, Until: recent[0].Add(s.cfg.RateWindow)}, l.rule)
			}
		}
		if until, ok, err := s.conflict(tx, v, pending, lastOther, now); err != nil {
			return err
		} else if ok {
			return refuse(&portal.Error{Code: portal.CodeRenewalConflict, Until: until}, "not_both")
		}
		if kind == portal.RenewPassword && !portal.ValidMobile(v.Mobile) {
			return refuse(portal.ErrNoMobile, "no_mobile")
		}
		for _, k := range [][]byte{agentKey, voterKey} {
			if err := tx.AddRateEvent(k, now); err != nil {
				return err
			}
		}

		if kind == portal.RenewPassword {
			out = portal.DeskRenewal{Kind: kind, Channel: string(ChannelSMS), Recipient: v.Mobile}
			return s.renewPassword(tx, v, secret, hash, msgID, now, AuditEntry{At: now, Actor: agentActor(a),
				Action: "desk.renewal.password", VoterID: v.ID, Detail: facts("reason", why, "to", v.Mobile)})
		}
		expires := now.Add(s.cfg.LinkTTL)
		if err := tx.ReplaceLinks(v.ID, LinkIdentifier, now); err != nil {
			return err
		}
		if _, err := tx.InsertLink(Link{VoterID: v.ID, Kind: LinkIdentifier, TokenHash: s.mac("link", secret),
			CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		msg, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID},
			portal.LinkURL(s.cfg.PublicURL, secret), expires)
		if err != nil {
			return err
		}
		if err := s.enqueue(tx, v, "identifier.link", msg, now); err != nil {
			return err
		}
		out = portal.DeskRenewal{Kind: kind, Channel: string(ChannelEmail), Recipient: v.Email, ExpiresAt: expires}
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "desk.renewal.identifier", VoterID: v.ID,
			Detail: facts("reason", why, "to", v.Email, "expires", stamp(expires))})
	})
	if err := answer("desk renewal", err); err != nil {
		return portal.DeskRenewal{}, err
	}
	s.log.InfoContext(ctx, "renewal started by the desk", "kind", string(kind), "voter", voterID, "agent", a.Name)
	return out, nil
}

var _ portal.Desk = (*Office)(nil)
