package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"consulvote/app/portal"
)

// reason checks the reason an agent typed for an action and trims it.
func reason(r string) (string, error) {
	if err := portal.CheckReason(r); err != nil {
		return "", err
	}
	return strings.TrimSpace(r), nil
}

// FindVoters implements portal.Office.
func (s *Office) FindVoters(ctx context.Context, token, query string) ([]portal.VoterSummary, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return nil, err
	}
	query = strings.TrimSpace(query)
	if query == "" || len(query) > portal.MaxEmailLen {
		return nil, portal.InvalidInput(portal.FieldError{Field: portal.FieldQuery, Reason: portal.ReasonRequired})
	}
	var vs []Voter
	err = s.store.View(ctx, func(tx Tx) (err error) {
		vs, err = tx.FindVoters(portal.NormalizeNUMIC(query), portal.NormalizeEmail(query), 50)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find voters: %w", err)
	}
	out := []portal.VoterSummary{}
	for _, v := range vs {
		if a.Scope.Sees(v.Circonscription) {
			out = append(out, summary(v))
		}
	}
	return out, nil
}

// historyEntry is an audit entry as the desk reads it, its facts by name.
func historyEntry(e AuditEntry) portal.HistoryEntry {
	return portal.HistoryEntry{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Detail, Params: params(e.Detail)}
}

func summary(v Voter) portal.VoterSummary {
	return portal.VoterSummary{ID: v.ID, NUMIC: v.NUMIC, LastName: v.LastName, FirstNames: v.FirstNames,
		Email: v.Email, Circonscription: v.Circonscription}
}

// VoterFile implements portal.Office.
func (s *Office) VoterFile(ctx context.Context, token string, voterID int64) (portal.VoterFile, error) {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return portal.VoterFile{}, err
	}
	now := s.clock.Now()
	var f portal.VoterFile
	err = s.store.View(ctx, func(tx Tx) error {
		v, err := scopedVoter(tx, a, voterID)
		if err != nil {
			return err
		}
		f = portal.VoterFile{VoterSummary: summary(v), Mobile: v.Mobile, HasIdentifier: len(v.IdentifierHash) > 0,
			HasPassword: v.PasswordHash != "", FailedAttempts: v.FailedAttempts, IdentifierRenewedAt: v.IdentifierRenewedAt,
			PasswordRenewedAt: v.PasswordRenewedAt, LastLoginAt: v.LastLoginAt}
		if now.Before(v.LockedUntil) {
			f.LockedUntil = v.LockedUntil
		}
		links, err := tx.PendingLinks(voterID, now)
		if err != nil {
			return err
		}
		for _, l := range links {
			f.PendingLinks = append(f.PendingLinks, portal.PendingLink{Kind: string(l.Kind), CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt})
		}
		ms, err := tx.Messages(MessageFilter{VoterID: voterID, Limit: 50})
		if err != nil {
			return err
		}
		for _, m := range ms {
			f.Messages = append(f.Messages, messageState(m))
		}
		cs, err := tx.VoterContactChanges(voterID, 10)
		if err != nil {
			return err
		}
		for _, c := range cs {
			f.ContactChanges = append(f.ContactChanges, contactChange(c, v, now))
		}
		hist, err := tx.AuditSearch("", "", voterID, 100)
		for _, h := range hist {
			f.History = append(f.History, historyEntry(h))
		}
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return portal.VoterFile{}, portal.ErrNotFound
	}
	if err != nil {
		return portal.VoterFile{}, fmt.Errorf("voter file: %w", err)
	}
	return f, nil
}

// deskAction runs an agent's action on a voter: session and role checked,
// reason required, the action and its reason audited in the same
// transaction.
func (s *core) deskAction(ctx context.Context, token string, voterID int64, why, action string, fn func(Tx, time.Time) error) error {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return err
	}
	why, err = reason(why)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		if _, err := scopedVoter(tx, a, voterID); err != nil {
			return err
		}
		if err := fn(tx, now); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: action, VoterID: voterID, Detail: facts("reason", why)})
	})
	if errors.Is(err, ErrNotFound) {
		return portal.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	return nil
}

// UnlockVoter implements portal.Office.
func (s *Office) UnlockVoter(ctx context.Context, token string, voterID int64, why string) error {
	return s.deskAction(ctx, token, voterID, why, "voter.unlocked", func(tx Tx, _ time.Time) error {
		return tx.Lock(voterID, time.Time{})
	})
}

// CancelLinks implements portal.Office.
func (s *Office) CancelLinks(ctx context.Context, token string, voterID int64, why string) (int, error) {
	var n int
	err := s.deskAction(ctx, token, voterID, why, "voter.links_cancelled", func(tx Tx, now time.Time) error {
		links, err := tx.PendingLinks(voterID, now)
		if err != nil {
			return err
		}
		n = len(links)
		return tx.RevokeLinks(voterID, now)
	})
	return n, err
}
