package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"consulvote/app/portal"
)

// fail counts a wrong password or code for v. At the limit it locks the
// voter, kills the pending links and returns ErrLocked; otherwise it
// returns wrong.
func (s *Service) fail(ctx context.Context, v Voter, action string, wrong error) error {
	now := s.clock.Now()
	var outcome error
	err := s.store.Update(ctx, func(tx Tx) error {
		until, err := s.countFailure(tx, v, action, now)
		outcome = wrong
		if !until.IsZero() {
			outcome = &portal.Error{Code: portal.CodeLocked, Until: until}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	s.log.InfoContext(ctx, "authentication failed", "voter", v.ID, "code", portal.ErrorCode(outcome))
	return outcome
}

// lockTx is what counting a failure touches.
type lockTx interface {
	Lockouts
	Links
	AuditLog
}

// countFailure counts one failure of v in tx and audits it; at the limit
// it locks v, kills its pending links and returns when the lock ends.
func (s *Service) countFailure(tx lockTx, v Voter, action string, now time.Time) (lockedUntil time.Time, err error) {
	n, err := tx.AddFailure(v.ID)
	if err != nil {
		return time.Time{}, err
	}
	if err := s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: action, VoterID: v.ID,
		Detail: "failure " + strconv.Itoa(n)}); err != nil {
		return time.Time{}, err
	}
	if n < s.cfg.MaxFailures {
		return time.Time{}, nil
	}
	until := now.Add(s.cfg.LockDuration)
	if err := tx.Lock(v.ID, until); err != nil {
		return time.Time{}, err
	}
	if err := tx.RevokeLinks(v.ID, now); err != nil {
		return time.Time{}, err
	}
	return until, s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "voter.locked", VoterID: v.ID,
		Detail: "until " + until.UTC().Format(time.RFC3339)})
}
