package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// RequestIdentifierRenewal implements portal.Portal. On a match the
// link's token hash and the e-mail that carries the link are written in
// one transaction; the answer is the same whatever the lookup finds.
func (s *Service) RequestIdentifierRenewal(ctx context.Context, req portal.IdentifierRenewalRequest) error {
	req = req.Normalize()
	if err := req.Validate(s.numic); err != nil {
		return err
	}
	var token, msgID string
	numicKey := s.mac("numic", req.NUMIC)
	return s.requestRenewal(ctx, renewalRequest{
		kind: "identifier", codeID: req.CodeID, code: req.Code, rateKey: numicKey,
		// Drawn whether or not the voter exists, so both paths cost the same.
		prepare: func() (err error) {
			if token, err = s.token(); err != nil {
				return err
			}
			msgID, err = s.messageID()
			return err
		},
		match: func(tx Tx) (Voter, error) {
			v, err := tx.VoterByNUMIC(req.NUMIC)
			if err == nil && v.Email != req.Email {
				return Voter{}, ErrNotFound
			}
			return v, err
		},
		apply: func(tx Tx, now time.Time) (string, error, error) {
			v, err := tx.VoterByNUMIC(req.NUMIC)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return "", nil, err
			}
			link := portal.LinkURL(s.cfg.PublicURL, token)
			expires := now.Add(s.cfg.LinkTTL)
			if err != nil || v.Email != req.Email {
				// Compose anyway, to spend the time a match spends.
				if _, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: req.Email, Date: now, MessageID: msgID}, link, expires); err != nil {
					return "", nil, err
				}
				e := AuditEntry{At: now, Actor: "anonymous", Action: "identifier.request.no_match",
					Detail: "numic#" + hex.EncodeToString(numicKey[:8])}
				if v.ID != 0 {
					e.VoterID, e.Detail = v.ID, "e-mail does not match"
				}
				return OutcomeNoMatch, nil, s.audit(tx, e)
			}

			if until, ok, err := s.conflict(tx, v, "", v.PasswordRenewedAt, now); err != nil {
				return "", nil, err
			} else if ok {
				refused := &portal.Error{Code: portal.CodeRenewalConflict, Until: until}
				if err := s.refuse(tx, v, "identifier", refused, now); err != nil {
					return "", nil, err
				}
				return "", refused, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.request.refused",
					VoterID: v.ID, Detail: "password renewal pending or within cool-down"})
			}

			if err := tx.ReplaceLinks(v.ID, LinkIdentifier, now); err != nil {
				return "", nil, err
			}
			if _, err := tx.InsertLink(Link{VoterID: v.ID, Kind: LinkIdentifier, TokenHash: s.mac("link", token),
				CreatedAt: now, ExpiresAt: expires}); err != nil {
				return "", nil, err
			}
			msg, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID}, link, expires)
			if err != nil {
				return "", nil, err
			}
			if err := s.enqueue(tx, v, "identifier.link", msg, now); err != nil {
				return "", nil, err
			}
			return OutcomeAccepted, nil, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.request", VoterID: v.ID})
		},
	})
}

// ConfirmIdentifierRenewal implements portal.Portal.
func (s *Service) ConfirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	r, err := s.confirmIdentifierRenewal(ctx, req)
	s.obs.RenewalConfirmed("identifier", outcome(OutcomeConfirmed, err))
	return r, err
}

func (s *Service) confirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	req.Code = strings.TrimSpace(req.Code)
	if err := req.Validate(); err != nil {
		return portal.Renewal{}, err
	}
	token, _ := portal.ParseLinkToken(req.Link) // checked by Validate
	now := s.clock.Now()

	var l Link
	var v Voter
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if l, err = tx.LinkByTokenHash(s.mac("link", token)); err != nil {
			return err
		}
		v, err = tx.VoterByID(l.VoterID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return portal.Renewal{}, portal.ErrLinkUnknown
	}
	if err != nil {
		return portal.Renewal{}, fmt.Errorf("confirm renewal: %w", err)
	}
	if err := (portal.LinkStatus{State: l.State(now)}).Err(); err != nil {
		return portal.Renewal{}, err
	}
	n, err := s.reserveAttempt(ctx, v)
	if err != nil {
		return portal.Renewal{}, err
	}
	// An expired code is not a guess: ask for a new one without counting.
	codeErr := s.checkCode(ctx, req.CodeID, req.Code)
	if codeErr != nil && !errors.Is(codeErr, portal.ErrSecurityCodeWrong) {
		return portal.Renewal{}, s.releaseAttempt(ctx, v, codeErr)
	}
	// Hashing runs outside any transaction: it is the slow part and must
	// not hold the write lock.
	ok := false
	if codeErr == nil {
		if ok, err = s.checkPassword(ctx, v.PasswordHash, req.Password); err != nil {
			return portal.Renewal{}, s.releaseAttempt(ctx, v, err)
		}
	}
	if !ok {
		wrong := &portal.Error{Code: portal.CodeWrongPasswordOrCode, Remaining: max(s.cfg.MaxFailures-n, 0)}
		return portal.Renewal{}, s.fail(ctx, v, n, "identifier.confirm.failed", wrong)
	}

	identifier, err := s.newCredential()
	if err != nil {
		return portal.Renewal{}, err
	}
	msgID, err := s.messageID()
	if err != nil {
		return portal.Renewal{}, err
	}
	now = s.clock.Now()
	var outcome error
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if outcome, err = s.succeeded(tx, v, now); err != nil {
			return err
		} else if outcome != nil {
			return outcome // a lock came first: nothing is written
		}
		ok, err := tx.ConsumeLink(l.ID, now)
		if err != nil {
			return err
		}
		if !ok { // someone else consumed, replaced or revoked it meanwhile
			if l, err = tx.LinkByTokenHash(l.TokenHash); err != nil {
				return err
			}
			outcome = portal.LinkStatus{State: l.State(now)}.Err()
			return nil
		}
		return s.renewIdentifier(tx, v, identifier, msgID, now)
	})
	if outcome != nil && (err == nil || err == outcome) {
		return portal.Renewal{}, outcome
	}
	if err != nil {
		return portal.Renewal{}, fmt.Errorf("confirm renewal: %w", err)
	}
	s.log.InfoContext(ctx, "identifier renewed", "voter", v.ID)
	return portal.Renewal{Identifier: identifier, NUMIC: v.NUMIC}, nil
}

// renewIdentifier stores v's new identifier (its keyed hash), ends its
// sessions, and queues the notice e-mail, which holds no secret.
func (s *Service) renewIdentifier(tx Tx, v Voter, identifier, msgID string, now time.Time) error {
	if err := tx.SetIdentifier(v.ID, s.mac("identifier", identifier), now); err != nil {
		return err
	}
	if err := tx.DeleteSessionsOf(v.ID); err != nil {
		return err
	}
	msg, err := s.cfg.Mail.IdentifierChanged(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID})
	if err != nil {
		return err
	}
	if err := s.enqueue(tx, v, "identifier.changed", msg, now); err != nil {
		return err
	}
	return s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.renewed", VoterID: v.ID})
}
