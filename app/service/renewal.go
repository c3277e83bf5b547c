package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// renewalRequest is what differs between the two renewal requests
// (identifier by e-mail link, password by SMS); requestRenewal is what
// they share.
type renewalRequest struct {
	kind         string // "identifier" or "password": logs, errors, audit actions
	codeID, code string
	// rateKey counts the request against the per-NUMIC limit, when the
	// request matches the voter.
	rateKey []byte
	// prepare does, before the transaction, the work a match needs, whether
	// or not there is a match: a miss must cost what a match costs. When
	// slow is set it is the slow part (a password hash): a code already
	// spent is refused before it, so that replaying one buys none.
	prepare func() error
	slow    bool
	// lookup returns the voter the request names by its key (NUMIC or
	// identifier), or ErrNotFound; matches tells whether the request's
	// other field designates that voter too.
	lookup  func(tx Voters) (Voter, error)
	matches func(v Voter) bool
	// apply writes the outcome in tx, given what lookup found (a zero
	// Voter: nobody). It returns the refusal, for the log (nil: done, or no
	// match), or a failure. The caller answers the same whatever it
	// returns: a refusal reaches a matching voter by e-mail (refuse).
	// hidden tells the metrics what happened when refused is nil:
	// OutcomeAccepted when a link or a password went out, else why not
	// (OutcomeNoMatch, …).
	apply func(tx Tx, v Voter, now time.Time) (hidden string, refused, err error)
}

// requestRenewal is the skeleton of both renewal requests: the security
// code, the work a match needs, a floor on the time of the rest, one
// transaction with the code's single use, the per-NUMIC limit and the
// outcome, and a log line that names no voter. Past the security code the
// answer is the same whatever the roll holds (the neutral "sent"): an
// answer that differed on a refusal told whether the NUMIC and e-mail
// matched a voter.
func (s *core) requestRenewal(ctx context.Context, r renewalRequest) (err error) {
	var hidden string
	var outcome error
	defer func() {
		// For the operators: what the one answer hid.
		switch {
		case err != nil:
			s.obs.RenewalRequested(r.kind, string(portal.ErrorCode(err)))
		case outcome != nil:
			s.obs.RenewalRequested(r.kind, string(portal.ErrorCode(outcome)))
		default:
			s.obs.RenewalRequested(r.kind, hidden)
		}
	}()
	code := s.readCode(r.codeID, r.code)
	if code.err != nil {
		return s.refuseCode(ctx, code)
	}
	if r.slow {
		if err := s.unspentCode(ctx, code); err != nil {
			return err
		}
	}
	if err := r.prepare(); err != nil {
		return err
	}
	// From here on the answer could depend on the roll: pad its timing.
	// (Started before the password request's hash, the floor ended inside
	// it and hid nothing.)
	defer waitUntil(ctx, time.Now().Add(s.cfg.RequestFloor))
	now := s.clock.Now()
	source := s.mac("renewal-source", r.kind+":"+portal.Client(ctx))
	err = s.store.Update(ctx, func(tx Tx) (err error) {
		hidden, err = s.renewalTx(tx, r, code, source, now)
		return err
	})
	if committed := (*CommitError)(nil); errors.As(err, &committed) {
		outcome, err = committed.Err, nil
	}
	if err != nil && errors.Is(err, portal.ErrSecurityCodeExpired) {
		return s.codeOutcome(err)
	}
	if err != nil {
		return fmt.Errorf("%s renewal request: %w", r.kind, err)
	}
	s.codeOutcome(nil)
	if outcome != nil {
		s.log.InfoContext(ctx, r.kind+" renewal request refused", "code", portal.ErrorCode(outcome))
		return nil
	}
	s.log.InfoContext(ctx, r.kind+" renewal requested")
	return nil
}

// renewalTx is a renewal request's one transaction: the code spent (a
// code spent already ends it, nothing written), the limits counted, the
// outcome written. A refusal is returned committed (Commit).
func (s *core) renewalTx(tx Tx, r renewalRequest, code triedCode, source []byte, now time.Time) (hidden string, err error) {
	if err := s.spendCode(tx, code); err != nil {
		return "", err
	}
	// The voter's row after the keys: a store with row locks orders the
	// writers of one voter there.
	refused, limit, v, matched, err := s.renewalLimit(tx, r, source, now)
	if err != nil {
		return "", err
	}
	if refused != nil {
		if matched {
			if err := s.refuse(tx, v, r.kind, refused, now); err != nil {
				return "", err
			}
		}
		return "", commit(refused, s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: r.kind + ".request.rate_limited",
			Detail: facts("numic_key", hex.EncodeToString(r.rateKey[:8]), "limit", limit)}))
	}
	hidden, refused, err = r.apply(tx, v, now)
	return hidden, commit(refused, err)
}

// unspentCode refuses, with a read only, a code tried already.
func (s *core) unspentCode(ctx context.Context, code triedCode) error {
	var spent bool
	err := s.store.View(ctx, func(tx Tx) (err error) {
		spent, err = tx.SecurityCodeSpent(code.key)
		return err
	})
	if err == nil && spent {
		err = portal.ErrSecurityCodeExpired
	}
	if err != nil {
		return s.codeOutcome(err)
	}
	return nil
}

// refuse tells v, by an e-mail to the address on file with no secret in
// it, that a request of kind was refused and until when: at most one such
// e-mail per voter, kind and rate window, so that nobody can flood a
// voter's mailbox with requests.
func (s *core) refuse(tx limitedOutbox, v Voter, kind string, refusal error, now time.Time) error {
	var pe *portal.Error
	if !errors.As(refusal, &pe) {
		return refusal
	}
	reason := map[portal.Code]string{portal.CodeRenewalConflict: mail.RefusedConflict,
		portal.CodeRateLimited: mail.RefusedRateLimited, portal.CodeLocked: mail.RefusedLocked}[pe.Code]
	if reason == "" {
		return refusal
	}
	key := s.mac("refusal-notice", kind+":"+strconv.FormatInt(v.ID, 10))
	recent, err := tx.RateEvents(now.Add(-s.cfg.RateWindow), key)
	if err != nil || len(recent[0]) > 0 {
		return err
	}
	if err := tx.AddRateEvent(key, now); err != nil {
		return err
	}
	msgID, err := s.messageID()
	if err != nil {
		return err
	}
	msg, err := s.cfg.Mail.RenewalRefused(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID}, kind, reason, pe.Until)
	if err != nil {
		return err
	}
	return s.enqueue(tx, v, kind+".refused", msg, now)
}

// renewalLimit counts a request: against its NUMIC's limit when it
// matches the voter it names (matched), else against its source's and the
// overall limit of requests that match nobody, so that a stranger holding
// the NUMIC cannot spend the voter's. Both keys are read, and locked where
// the store locks, whatever matched: a match waits and costs what a miss
// does. It returns the voter lookup found (zero: none); over a limit, the
// refusal and which limit, for the audit.
func (s *core) renewalLimit(tx limitTx, r renewalRequest, source []byte, now time.Time) (refused error, limit string, v Voter, matched bool, err error) {
	since := now.Add(-s.cfg.RateWindow)
	events, err := tx.RateEvents(since, r.rateKey, source)
	if err != nil {
		return nil, "", Voter{}, false, err
	}
	numic, fromSource := events[0], events[1]
	if v, err = r.lookup(tx); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, "", Voter{}, false, err
	}
	matched = v.ID != 0 && r.matches(v)
	key, recent, max, limit := r.rateKey, numic, s.cfg.MaxRequests, "numic"
	if !matched {
		key, recent, max, limit = source, fromSource, s.cfg.SourceRequests, "source"
	}
	switch {
	case len(recent) >= max:
		return &portal.Error{Code: portal.CodeRateLimited, Until: recent[0].Add(s.cfg.RateWindow)}, limit, v, matched, nil
	case !matched && !s.unmatched.AllowN(now, 1):
		return &portal.Error{Code: portal.CodeRateLimited, Until: now.Add(time.Minute)}, "overall", v, matched, nil
	}
	return nil, "", v, matched, tx.AddRateEvent(key, now)
}

// waitUntil sleeps until the wall-clock time t, or until ctx ends.
//
// Go's timers sleep in whole milliseconds and wake up to one late, by an
// amount that depends on when the sleep began, that is on the work done
// before it: a match, which does more, woke at other sub-millisecond
// offsets than a miss, and 300 requests per class told them apart
// (Kolmogorov-Smirnov, make timing). So the timer stops 1.5 ms short and
// the rest is a spin that ends at t whatever came before.
func waitUntil(ctx context.Context, t time.Time) {
	if d := time.Until(t) - 1500*time.Microsecond; d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
	for time.Now().Before(t) && ctx.Err() == nil {
		runtime.Gosched()
	}
}

// conflict applies "not both at once": a renewal is refused while a
// renewal of the other credential is pending (a link of kind pending, when
// that renewal goes through links) or was done within the cool-down
// (lastOther). It returns when the refusal ends, zero while pending.
func (s *core) conflict(tx Links, v Voter, pending LinkKind, lastOther, now time.Time) (time.Time, bool, error) {
	if pending != "" {
		links, err := tx.PendingLinks(v.ID, now)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, l := range links {
			if l.Kind == pending {
				return time.Time{}, true, nil
			}
		}
	}
	if !lastOther.IsZero() && now.Before(lastOther.Add(s.cfg.Cooldown)) {
		return lastOther.Add(s.cfg.Cooldown), true, nil
	}
	return time.Time{}, false, nil
}
