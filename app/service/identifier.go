package service

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// RequestIdentifierRenewal implements portal.Portal. On a match the
// link's token hash and the e-mail that carries the link are written in
// one transaction; the answer is the same whatever the lookup finds.
func (s *Portal) RequestIdentifierRenewal(ctx context.Context, req portal.IdentifierRenewalRequest) error {
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
		lookup:  func(tx Voters) (Voter, error) { return tx.VoterByNUMIC(req.NUMIC) },
		matches: func(v Voter) bool { return v.Email == req.Email },
		apply: func(tx Tx, v Voter, now time.Time) (string, error, error) {
			link := portal.LinkURL(s.cfg.PublicURL, token)
			expires := now.Add(s.cfg.LinkTTL)
			if v.ID == 0 || v.Email != req.Email {
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
			return OutcomeAccepted, nil, s.sendLink(tx, v, token, msgID, now)
		},
	})
}

// sendLink replaces v's pending identifier links by a new one, whose
// token hash it stores, and queues the e-mail that carries it.
func (s *core) sendLink(tx linkTx, v Voter, token, msgID string, now time.Time) error {
	expires := now.Add(s.cfg.LinkTTL)
	if _, err := tx.InsertLink(Link{VoterID: v.ID, Kind: LinkIdentifier, TokenHash: s.mac("link", token),
		CreatedAt: now, ExpiresAt: expires}); err != nil {
		return err
	}
	msg, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID},
		portal.LinkURL(s.cfg.PublicURL, token), expires)
	if err != nil {
		return err
	}
	if err := s.enqueue(tx, v, "identifier.link", msg, now); err != nil {
		return err
	}
	return s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.request", VoterID: v.ID})
}

// ConfirmIdentifierRenewal implements portal.Portal.
func (s *Portal) ConfirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	r, err := s.confirmIdentifierRenewal(ctx, req)
	s.obs.RenewalConfirmed("identifier", outcome(OutcomeConfirmed, err))
	return r, err
}

func (s *core) confirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	req.Code = strings.TrimSpace(req.Code)
	if err := req.Validate(); err != nil {
		return portal.Renewal{}, err
	}
	token, _ := portal.ParseLinkToken(req.Link) // checked by Validate
	l, v, n, err := s.reserveConfirm(ctx, token, s.readCode(req.CodeID, req.Code))
	if err != nil {
		return portal.Renewal{}, err
	}
	// Hashing runs outside any transaction: it is the slow part and must
	// not hold the write lock.
	ok, err := s.checkPassword(ctx, v.PasswordHash, req.Password)
	if err != nil {
		return portal.Renewal{}, s.releaseAttempt(ctx, v, err)
	}
	if !ok {
		return portal.Renewal{}, s.fail(ctx, v, n, "identifier.confirm.failed", s.wrongConfirm(n))
	}
	identifier, err := s.newCredential()
	if err != nil {
		return portal.Renewal{}, err
	}
	msgID, err := s.messageID()
	if err != nil {
		return portal.Renewal{}, err
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		if refused, err := s.succeeded(tx, v, now); err != nil || refused != nil {
			return commit(refused, err) // a lock came first: nothing is written
		}
		ok, err := tx.ConsumeLink(l.ID, now)
		if err != nil {
			return err
		}
		if !ok { // someone else consumed, replaced or revoked it meanwhile
			l, err := tx.LinkByTokenHash(l.TokenHash)
			if err != nil {
				return err
			}
			if status := (portal.LinkStatus{State: l.State(now)}).Err(); status != nil {
				return Commit(status)
			}
			return portal.ErrLinkUnknown
		}
		return s.renewIdentifier(tx, v, identifier, msgID, now)
	})
	if err != nil {
		return portal.Renewal{}, answer("confirm renewal", err)
	}
	s.log.InfoContext(ctx, "identifier renewed", "voter", v.ID)
	return portal.Renewal{Identifier: identifier, NUMIC: v.NUMIC}, nil
}

// wrongConfirm is the answer to wrong attempt n of a confirmation (the
// password or the code, the same answer).
func (s *core) wrongConfirm(n int) error {
	return &portal.Error{Code: portal.CodeWrongPasswordOrCode, Remaining: max(s.cfg.MaxFailures-n, 0)}
}

// reserveConfirm is a confirmation's first transaction: the link and its
// voter, the security code spent and one of the voter's attempts reserved
// before the slow password check. A link that is not pending, an expired
// code (not a guess) or a locked voter write nothing; a wrong code is
// attempt n failed at once, committed.
func (s *core) reserveConfirm(ctx context.Context, token string, code triedCode) (l Link, v Voter, n int, err error) {
	now := s.clock.Now()
	spent := false
	var lockedUntil time.Time // when the wrong code locked v
	err = s.store.Update(ctx, func(tx Tx) error {
		spent = false // a store may run the transaction again
		if l, err = tx.LinkByTokenHash(s.mac("link", token)); err != nil {
			return err
		}
		if v, err = tx.VoterByID(l.VoterID); err != nil {
			return err
		}
		if err := (portal.LinkStatus{State: l.State(now)}).Err(); err != nil {
			return err
		}
		if errors.Is(code.err, portal.ErrSecurityCodeExpired) {
			return code.err
		}
		if err := s.spendCode(tx, code); err != nil {
			return err
		}
		spent = true
		var until time.Time
		if n, until, err = tx.ReserveAttempt(v.ID, now, s.cfg.MaxFailures, s.cfg.LockDuration); err != nil || n == 0 {
			return commit(s.refusedAttempt(ctx, v, until), err)
		}
		if code.err == nil {
			return nil
		}
		lockedUntil, err = s.recordFailure(tx, v, n, "identifier.confirm.failed", now)
		return commit(s.wrongConfirm(n), err)
	})
	if committed := (*CommitError)(nil); spent && (err == nil || errors.As(err, &committed)) {
		s.codeOutcome(code.err) // counted for the operators
		if code.err != nil && n > 0 {
			return l, v, n, s.failed(ctx, v, lockedUntil, committed.Err)
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
		err = portal.ErrLinkUnknown
	case errors.Is(err, portal.ErrSecurityCodeExpired) || errors.Is(err, portal.ErrSecurityCodeWrong):
		err = s.codeOutcome(err)
	case err != nil:
		err = answer("confirm renewal", err)
	}
	return l, v, n, err
}

// renewIdentifier stores v's new identifier (its keyed hash), ends its
// sessions, and queues the notice e-mail, which holds no secret.
func (s *core) renewIdentifier(tx identifierTx, v Voter, identifier, msgID string, now time.Time) error {
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
