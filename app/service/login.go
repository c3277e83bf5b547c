package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"consulvote/app/portal"
)

// Login implements portal.Portal.
func (s *Service) Login(ctx context.Context, identifier, password string) (portal.Session, error) {
	sess, err := s.login(ctx, identifier, password)
	s.obs.Login(outcome(OutcomeOK, err))
	return sess, err
}

func (s *Service) login(ctx context.Context, identifier, password string) (portal.Session, error) {
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

	var v Voter
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		v, err = tx.VoterByIdentifier(s.mac("identifier", identifier))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		h, err := s.dummyHash()
		if err != nil {
			return portal.Session{}, err
		}
		if _, err := s.checkPassword(ctx, h, password); err != nil {
			return portal.Session{}, err
		}
		now := s.clock.Now()
		err = s.store.Update(ctx, func(tx Tx) error {
			return s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: "login.failed", Detail: "unknown identifier"})
		})
		if err != nil {
			return portal.Session{}, fmt.Errorf("login: %w", err)
		}
		return portal.Session{}, portal.ErrBadLogin
	}
	if err != nil {
		return portal.Session{}, fmt.Errorf("login: %w", err)
	}
	n, err := s.reserveAttempt(ctx, v)
	if err != nil {
		return portal.Session{}, err
	}
	ok, err := s.checkPassword(ctx, v.PasswordHash, password)
	if err != nil {
		return portal.Session{}, s.releaseAttempt(ctx, v, err)
	}
	if !ok {
		return portal.Session{}, s.fail(ctx, v, n, "login.failed", portal.ErrBadLogin)
	}

	token, err := s.token()
	if err != nil {
		return portal.Session{}, err
	}
	now := s.clock.Now()
	sess := Session{TokenHash: s.mac("session", token), VoterID: v.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	var refused error
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if refused, err = s.succeeded(tx, v, now); err != nil {
			return err
		} else if refused != nil {
			return refused // a lock came first: no session
		}
		if err := tx.SetLastLogin(v.ID, now); err != nil {
			return err
		}
		if err := tx.InsertSession(sess); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: voterActor(v.ID), Action: "login", VoterID: v.ID})
	})
	if refused != nil && err == refused {
		return portal.Session{}, refused
	}
	if err != nil {
		return portal.Session{}, fmt.Errorf("login: %w", err)
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

// Logout implements portal.Portal.
func (s *Service) Logout(ctx context.Context, token string) error {
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
