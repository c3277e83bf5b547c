package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"consulvote/app/portal"
)

// Login implements portal.Portal.
func (s *Portal) Login(ctx context.Context, identifier, password string) (portal.Session, error) {
	sess, err := s.login(ctx, identifier, password)
	s.obs.Login(outcome(OutcomeOK, err))
	return sess, err
}

func (s *core) login(ctx context.Context, identifier, password string) (portal.Session, error) {
	identifier = strings.TrimSpace(identifier)
	var fs []portal.FieldError
	for _, f := range []struct {
		name  portal.Field
		value string
	}{{portal.FieldIdentifier, identifier}, {portal.FieldPassword, password}} {
		switch {
		case f.value == "":
			fs = append(fs, portal.FieldError{Field: f.name, Reason: portal.ReasonRequired})
		case len(f.value) > portal.MaxFieldLen:
			fs = append(fs, portal.FieldError{Field: f.name, Reason: portal.ReasonTooLong})
		}
	}
	if err := portal.InvalidInput(fs...); err != nil {
		return portal.Session{}, err
	}

	v, n, err := s.reserveLogin(ctx, identifier)
	if err != nil {
		return portal.Session{}, err
	}
	if v.ID == 0 {
		return portal.Session{}, s.unknownLogin(ctx, identifier, password, n)
	}
	ok, err := s.checkPassword(ctx, v.PasswordHash, password)
	if err != nil {
		return portal.Session{}, s.releaseAttempt(ctx, v, err)
	}
	if !ok {
		return portal.Session{}, s.fail(ctx, v, n, "login.failed", s.badLogin(n))
	}

	token, err := s.token()
	if err != nil {
		return portal.Session{}, err
	}
	now := s.clock.Now()
	sess := Session{TokenHash: s.mac("session", token), VoterID: v.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	err = s.store.Update(ctx, func(tx Tx) error {
		if refused, err := s.succeeded(tx, v, now); err != nil || refused != nil {
			return commit(refused, err) // a lock came first: no session
		}
		if err := tx.InsertSession(sess); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "login", VoterID: v.ID})
	})
	if err != nil {
		return portal.Session{}, answer("login", err)
	}
	s.log.InfoContext(ctx, "voter logged in", "voter", v.ID)
	return portal.Session{
		Token:       token,
		NUMICMasked: portal.MaskNUMIC(v.NUMIC),
		FirstNames:  v.FirstNames,
		LastName:    v.LastName,
		LastLogin:   v.LastLoginAt,
		ExpiresAt:   sess.ExpiresAt,
	}, nil
}

// badLogin is the answer to wrong attempt n of a window that did not
// lock: the tries left before the lock.
func (s *core) badLogin(n int) error {
	return &portal.Error{Code: portal.CodeBadLogin, Remaining: s.cfg.MaxFailures - n}
}

// reserveLogin is a login's first transaction: the voter the identifier
// names, and one of its attempts reserved before the slow password check
// (reserveAttempt). An identifier that names no voter gets a zero Voter,
// and its attempt is reserved all the same (unknownLogin).
func (s *core) reserveLogin(ctx context.Context, identifier string) (v Voter, n int, err error) {
	now := s.clock.Now()
	var until time.Time
	err = s.store.Update(ctx, func(tx Tx) (err error) {
		v, err = tx.VoterByIdentifier(s.mac("identifier", identifier))
		switch {
		case errors.Is(err, ErrNotFound):
			v = Voter{}
			n, until, err = tx.ReserveThrottled(s.unknownKey(identifier), now, s.cfg.MaxFailures, s.cfg.LockDuration)
		case err == nil:
			n, until, err = tx.ReserveAttempt(v.ID, now, s.cfg.MaxFailures, s.cfg.LockDuration)
		}
		return err
	})
	switch {
	case err != nil:
		return Voter{}, 0, fmt.Errorf("login: %w", err)
	case n == 0 && v.ID == 0 && until.IsZero():
		return Voter{}, 0, portal.ErrUnavailable
	case n == 0 && v.ID == 0:
		return Voter{}, 0, &portal.Error{Code: portal.CodeLocked, Until: until}
	case n == 0:
		return Voter{}, 0, s.refusedAttempt(ctx, v, until)
	}
	return v, n, nil
}

// unknownLogin answers a login whose identifier names no voter exactly
// as one that does: its attempts are counted and locked the same way
// (under a keyed hash of the identifier typed, in the Throttles role, with
// the voters' limit, window and lock; reserveLogin took attempt n), and
// the same hash is checked, so that neither the tries left, nor the lock,
// nor the time taken tell whether the identifier exists.
func (s *core) unknownLogin(ctx context.Context, identifier, password string, n int) error {
	key := s.unknownKey(identifier)
	h, err := s.dummyHash()
	if err != nil {
		return err
	}
	if _, err := s.checkPassword(ctx, h, password); err != nil {
		return s.releaseUnknown(ctx, key, err)
	}
	now := s.clock.Now()
	var outcome error
	err = s.store.Update(ctx, func(tx Tx) error {
		outcome = s.badLogin(n)
		until, err := tx.ThrottleFailed(key, n, s.cfg.MaxFailures, now, s.cfg.LockDuration, s.cfg.LockDuration)
		if err != nil {
			return err
		}
		if err := s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: "login.failed",
			Detail: facts("failure", strconv.Itoa(n), "unknown_identifier", "true")}); err != nil {
			return err
		}
		if until.IsZero() {
			return nil
		}
		outcome = &portal.Error{Code: portal.CodeLocked, Until: until}
		return s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: "login.blocked",
			Detail: facts("until", until.UTC().Format(time.RFC3339))})
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if portal.ErrorCode(outcome) == portal.CodeLocked {
		s.obs.Locked("voter") // as a voter's lock: the counts must not tell either
	}
	return outcome
}

// unknownKey keys the attempts counted for an identifier that names no
// voter.
func (s *core) unknownKey(identifier string) []byte {
	return s.mac("unknown-identifier", identifier)
}

// countUnknown counts in tx a failed guess of an identifier that names no
// voter, as countFailure does for a voter's (a password request naming
// it: as a known identifier with the wrong NUMIC), so that a login after
// it shows the tries left that a known identifier would.
func (s *core) countUnknown(tx Throttles, identifier string, now time.Time) error {
	key := s.unknownKey(identifier)
	n, _, err := tx.ReserveThrottled(key, now, s.cfg.MaxFailures, s.cfg.LockDuration)
	if err != nil || n == 0 { // n == 0: blocked already, nothing more to count
		return err
	}
	_, err = tx.ThrottleFailed(key, n, s.cfg.MaxFailures, now, s.cfg.LockDuration, s.cfg.LockDuration)
	return err
}

// releaseUnknown gives back an unknown identifier's attempt that checked
// nothing (busy hashing workers); err is returned as is.
func (s *core) releaseUnknown(ctx context.Context, key []byte, err error) error {
	if rerr := s.store.Update(ctx, func(tx Tx) error { return tx.ReleaseThrottled(key) }); rerr != nil {
		return errors.Join(err, fmt.Errorf("release attempt: %w", rerr))
	}
	return err
}

// Logout implements portal.Portal.
func (s *Portal) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > portal.MaxFieldLen {
		return nil
	}
	err := s.store.Update(ctx, func(tx Tx) error { return tx.DeleteSession(s.mac("session", token)) })
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

func voterActor(id int64) string { return "voter:" + strconv.FormatInt(id, 10) }
