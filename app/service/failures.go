package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"consulvote/app/portal"
)

// Before the slow password check, a login and a confirmation reserve in
// the database one of the voter's MaxFailures attempts of the current
// lock window (Lockouts.ReserveAttempt: reserveLogin, reserveConfirm). A
// locked voter, or one whose attempts are all taken by checks still
// running, is refused without any check: so concurrent guesses, here or
// on another server instance, are never checked more than MaxFailures
// times per window.

// refusedAttempt is the answer when no attempt of v's window is left: v is
// locked until until, or (zero) the window's attempts are being checked.
func (s *core) refusedAttempt(ctx context.Context, v Voter, until time.Time) error {
	if until.IsZero() {
		s.log.InfoContext(ctx, "attempt refused: the window's attempts are being checked", "voter", v.ID)
		return portal.ErrUnavailable
	}
	s.log.InfoContext(ctx, "attempt refused: locked", "voter", v.ID)
	return &portal.Error{Code: portal.CodeLocked, Until: until}
}

// releaseAttempt gives back an attempt that checked nothing (an expired
// security code, busy hashing workers); err is returned as is.
func (s *core) releaseAttempt(ctx context.Context, v Voter, err error) error {
	if rerr := s.store.Update(ctx, func(tx Tx) error { return tx.ReleaseAttempt(v.ID) }); rerr != nil {
		return errors.Join(err, fmt.Errorf("release attempt: %w", rerr))
	}
	return err
}

// fail records the failure of v's attempt number n. The last attempt of
// the window locks the voter, kills the pending links and returns
// ErrLocked; otherwise it returns wrong.
func (s *core) fail(ctx context.Context, v Voter, n int, action string, wrong error) error {
	now := s.clock.Now()
	var until time.Time
	err := s.store.Update(ctx, func(tx Tx) (err error) {
		until, err = s.recordFailure(tx, v, n, action, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	return s.failed(ctx, v, until, wrong)
}

// failed is the answer to a failure recorded: wrong, or ErrLocked when it
// locked v until until.
func (s *core) failed(ctx context.Context, v Voter, until time.Time, wrong error) error {
	outcome := wrong
	if !until.IsZero() {
		outcome = &portal.Error{Code: portal.CodeLocked, Until: until}
		s.obs.Locked("voter")
	}
	s.log.InfoContext(ctx, "authentication failed", "voter", v.ID, "code", portal.ErrorCode(outcome))
	return outcome
}

// countFailure reserves and fails an attempt of v in tx at once, for a
// guess that needs no slow check (an identifier with the wrong NUMIC). It
// returns when the lock ends if this failure locked v.
func (s *core) countFailure(tx failureTx, v Voter, action string, now time.Time) (lockedUntil time.Time, err error) {
	n, _, err := tx.ReserveAttempt(v.ID, now, s.cfg.MaxFailures, s.cfg.LockDuration)
	if err != nil {
		return time.Time{}, err
	}
	if n == 0 { // locked already: nothing more to count
		return time.Time{}, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: action, VoterID: v.ID,
			Detail: "while locked"})
	}
	return s.recordFailure(tx, v, n, action, now)
}

// recordFailure audits failure n of v; the last of the window locks v
// and kills its pending links.
func (s *core) recordFailure(tx failureTx, v Voter, n int, action string, now time.Time) (lockedUntil time.Time, err error) {
	failure := AuditEntry{At: now, Actor: voterActor(v.ID), Action: action, VoterID: v.ID, Detail: "failure " + strconv.Itoa(n)}
	if n < s.cfg.MaxFailures {
		return time.Time{}, s.audit(tx, failure)
	}
	until := now.Add(s.cfg.LockDuration)
	if err := tx.Lock(v.ID, until); err != nil {
		return time.Time{}, err
	}
	if err := tx.RevokeLinks(v.ID, now); err != nil {
		return time.Time{}, err
	}
	if err := s.audit(tx, failure); err != nil {
		return time.Time{}, err
	}
	return until, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "voter.locked", VoterID: v.ID,
		Detail: "until " + until.UTC().Format(time.RFC3339)})
}

// succeeded forgets v's attempts in tx after a right password, unless v
// was locked meanwhile (by guesses whose checks ended first): then it
// returns refused (ErrLocked) and the success must not be written.
func (s *core) succeeded(tx successTx, v Voter, now time.Time) (refused, err error) {
	ok, err := tx.ClearFailures(v.ID, now)
	if err != nil || ok {
		return nil, err
	}
	cur, err := tx.VoterByID(v.ID)
	if err != nil {
		return nil, err
	}
	return &portal.Error{Code: portal.CodeLocked, Until: cur.LockedUntil}, nil
}
