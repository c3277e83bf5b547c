package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// e164 is an international mobile number: "+", a country code, up to 15
// digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidMobile reports whether s is a mobile number in E.164 form.
func ValidMobile(s string) bool { return e164.MatchString(s) }

// RequestPasswordRenewal implements portal.Portal. On a match the new
// password's hash, the SMS that carries the password and the notice e-mail
// are written in one transaction.
func (s *Service) RequestPasswordRenewal(ctx context.Context, req portal.PasswordRenewalRequest) error {
	req = req.Normalize()
	if err := req.Validate(s.numic); err != nil {
		return err
	}
	if err := s.checkCode(ctx, req.CodeID, req.Code); err != nil {
		return err
	}
	// The new password is drawn and hashed whatever the lookup finds: the
	// hash is the slow part, and a miss must cost what a match costs.
	password, err := s.newCredential()
	if err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	// From here on the answer could depend on the roll: pad its timing.
	// (Started before the hash, the floor ended inside it and hid nothing.)
	defer waitUntil(ctx, time.Now().Add(s.cfg.RequestFloor))
	msgID, err := s.messageID()
	if err != nil {
		return err
	}
	now := s.clock.Now()
	numicKey := s.mac("numic-password", req.NUMIC)
	var outcome error
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if outcome, err = s.limitRate(tx, numicKey, now, "password.request.rate_limited"); outcome != nil || err != nil {
			return err
		}

		v, err := tx.VoterByIdentifier(s.mac("identifier", req.Identifier))
		if errors.Is(err, ErrNotFound) {
			return tx.Audit(AuditEntry{At: now, Actor: "anonymous", Action: "password.request.no_match",
				Detail: "unknown identifier"})
		}
		if err != nil {
			return err
		}
		if v.NUMIC != req.NUMIC {
			// Someone holds the identifier but not the NUMIC: a guess,
			// counted like a wrong password, answered like a miss.
			_, err := s.countFailure(tx, v, "password.request.wrong_numic", now)
			return err
		}
		if now.Before(v.LockedUntil) {
			outcome = &portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}
			return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.request.locked", VoterID: v.ID})
		}
		if until, ok, err := s.conflict(tx, v, LinkIdentifier, v.IdentifierRenewedAt, now); err != nil {
			return err
		} else if ok {
			outcome = &portal.Error{Code: portal.CodeRenewalConflict, Until: until}
			return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.request.refused",
				VoterID: v.ID, Detail: "identifier renewal pending or within cool-down"})
		}
		if !ValidMobile(v.Mobile) {
			return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.request.no_mobile",
				VoterID: v.ID, Detail: "no mobile number in E.164 form on file"})
		}

		if err := tx.SetPassword(v.ID, hash, now); err != nil {
			return err
		}
		if err := tx.ClearFailures(v.ID); err != nil {
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
		return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "password.renewed", VoterID: v.ID})
	})
	if err != nil {
		return fmt.Errorf("password renewal request: %w", err)
	}
	if outcome != nil {
		s.log.InfoContext(ctx, "password renewal request refused", "code", portal.ErrorCode(outcome))
		return outcome
	}
	s.log.InfoContext(ctx, "password renewal requested")
	return nil
}
