package service

import (
	"context"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// RequestPasswordRenewal implements portal.Portal. On a match the new
// password's hash, the SMS that carries the password and the notice e-mail
// are written in one transaction.
func (s *Portal) RequestPasswordRenewal(ctx context.Context, req portal.PasswordRenewalRequest) error {
	req = req.Normalize()
	if err := req.Validate(s.numic); err != nil {
		return err
	}
	p := &passwordRenewal{s: s.core, req: req}
	err := s.requestRenewal(ctx, renewalRequest{
		kind: "password", codeID: req.CodeID, code: req.Code, rateKey: s.mac("numic-password", req.NUMIC),
		// The new password is drawn and hashed whatever the lookup finds:
		// the hash is the slow part, and a miss must cost what a match costs.
		prepare: func() (err error) {
			if p.password, err = s.newCredential(); err != nil {
				return err
			}
			if p.hash, err = s.hashPassword(ctx, p.password); err != nil {
				return err
			}
			p.msgID, err = s.messageID()
			return err
		},
		slow:    true,
		lookup:  func(tx Voters) (Voter, error) { return tx.VoterByIdentifier(s.mac("identifier", req.Identifier)) },
		matches: func(v Voter) bool { return v.NUMIC == req.NUMIC },
		apply:   p.apply,
	})
	if err == nil && p.locked {
		s.obs.Locked("voter")
	}
	return err
}

// passwordRenewal is one password request: what prepare drew, and
// whether its wrong NUMIC locked the voter.
type passwordRenewal struct {
	s                     *core
	req                   portal.PasswordRenewalRequest
	password, hash, msgID string
	locked                bool
}

// apply is the request's renewalRequest.apply.
func (p *passwordRenewal) apply(tx Tx, v Voter, now time.Time) (string, error, error) {
	s, req := p.s, p.req
	p.locked = false // a store may run the transaction again
	if v.ID == 0 {
		// Counted as a known identifier with the wrong NUMIC would
		// be: a login's tries left must not tell them apart.
		if err := s.countUnknown(tx, req.Identifier, now); err != nil {
			return "", nil, err
		}
		return OutcomeNoMatch, nil, s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: "password.request.no_match",
			Detail: "unknown identifier"})
	}
	if v.NUMIC != req.NUMIC {
		// Someone holds the identifier but not the NUMIC: a guess,
		// counted like a wrong password, answered like a miss.
		until, err := s.countFailure(tx, v, "password.request.wrong_numic", now)
		p.locked = !until.IsZero()
		return OutcomeWrongNUMIC, nil, err
	}
	if now.Before(v.LockedUntil) {
		refused := &portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}
		if err := s.refuse(tx, v, "password", refused, now); err != nil {
			return "", nil, err
		}
		return "", refused, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.request.locked", VoterID: v.ID})
	}
	if until, ok, err := s.conflict(tx, v, LinkIdentifier, v.IdentifierRenewedAt, now); err != nil {
		return "", nil, err
	} else if ok {
		refused := &portal.Error{Code: portal.CodeRenewalConflict, Until: until}
		if err := s.refuse(tx, v, "password", refused, now); err != nil {
			return "", nil, err
		}
		return "", refused, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.request.refused",
			VoterID: v.ID, Detail: "identifier renewal pending or within cool-down"})
	}
	if !portal.ValidMobile(v.Mobile) {
		return OutcomeNoMobile, nil, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.request.no_mobile",
			VoterID: v.ID, Detail: "no mobile number in E.164 form on file"})
	}
	return OutcomeAccepted, nil, s.renewPassword(tx, v, p.password, p.hash, p.msgID, now,
		AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.renewed", VoterID: v.ID})
}

// renewPassword stores v's new password hash, ends its sessions, queues
// the SMS with the password and the notice e-mail, and appends e to the
// audit log.
func (s *core) renewPassword(tx passwordTx, v Voter, password, hash, msgID string, now time.Time, e AuditEntry) error {
	if err := tx.SetPassword(v.ID, hash, now); err != nil {
		return err
	}
	if _, err := tx.ClearFailures(v.ID, now); err != nil { // not locked: checked in this transaction
		return err
	}
	if err := tx.DeleteSessionsOf(v.ID); err != nil {
		return err
	}
	if err := s.queue(tx, Message{VoterID: v.ID, Channel: ChannelSMS, Kind: "password.sms", Recipient: v.Mobile,
		Body: []byte(mail.PasswordSMS(v.Lang, password)), CreatedAt: now}); err != nil {
		return err
	}
	notice, err := s.cfg.Mail.PasswordChanged(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID})
	if err != nil {
		return err
	}
	if err := s.enqueue(tx, v, "password.changed", notice, now); err != nil {
		return err
	}
	return s.audit(tx, e)
}
