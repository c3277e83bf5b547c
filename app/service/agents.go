package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"consulvote/app/portal"
)

// AgentSessionTTL is how long an agent session lives without a new login.
const AgentSessionTTL = 30 * time.Minute

// MinAgentPassword is the shortest agent password accepted.
const MinAgentPassword = 12

// AddAgent creates a consular office account (from the command line).
func (s *Service) AddAgent(ctx context.Context, name string, role portal.Role, password string) error {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n"):
		return fmt.Errorf("agent name %q: 1 to 64 characters, no spaces", name)
	case role != portal.RoleAdmin && role != portal.RoleAgent:
		return fmt.Errorf("role %q: admin or agent", role)
	case utf8.RuneCountInString(password) < MinAgentPassword:
		return fmt.Errorf("password: at least %d characters", MinAgentPassword)
	}
	var hash string
	var err error
	if werr := s.hashes.Wait(ctx, func() { hash, err = hashPassword(password, s.cfg.Argon2, s.rand) }); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.AgentByName(name); err == nil {
			return fmt.Errorf("agent %q already exists", name)
		}
		if _, err := tx.InsertAgent(Agent{Name: name, Role: string(role), PasswordHash: hash, CreatedAt: now}); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "agent.added", Detail: name + " (" + string(role) + ")"})
	})
	if err != nil {
		return fmt.Errorf("add agent: %w", err)
	}
	return nil
}

// AgentLogin implements portal.Office.
func (s *Service) AgentLogin(ctx context.Context, name, password string) (portal.AgentSession, error) {
	name = strings.TrimSpace(name)
	var fs []portal.FieldError
	if name == "" || len(name) > portal.MaxFieldLen {
		fs = append(fs, portal.FieldError{Field: portal.FieldName, Reason: portal.ReasonRequired})
	}
	if password == "" || len(password) > portal.MaxFieldLen {
		fs = append(fs, portal.FieldError{Field: portal.FieldPassword, Reason: portal.ReasonRequired})
	}
	if err := portal.InvalidInput(fs...); err != nil {
		return portal.AgentSession{}, err
	}
	var a Agent
	err := s.store.View(ctx, func(tx Tx) (err error) { a, err = tx.AgentByName(name); return err })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return portal.AgentSession{}, fmt.Errorf("agent login: %w", err)
	}
	hash := a.PasswordHash
	if errors.Is(err, ErrNotFound) {
		if hash, err = s.dummyHash(); err != nil {
			return portal.AgentSession{}, err
		}
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		return portal.AgentSession{}, err
	}
	ok = ok && a.ID != 0
	now := s.clock.Now()
	if a.ID != 0 && now.Before(a.LockedUntil) {
		return portal.AgentSession{}, &portal.Error{Code: portal.CodeLocked, Until: a.LockedUntil}
	}
	if !ok {
		var outcome error = portal.ErrBadLogin
		err := s.store.Update(ctx, func(tx Tx) error {
			if a.ID != 0 {
				until := now.Add(s.cfg.LockDuration)
				n, err := tx.AgentFailed(a.ID, s.cfg.MaxFailures, until)
				if err != nil {
					return err
				}
				if n >= s.cfg.MaxFailures {
					outcome = &portal.Error{Code: portal.CodeLocked, Until: until}
					if err := s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "agent.locked", Detail: "agent " + quoteName(name)}); err != nil {
						return err
					}
				}
			}
			return s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: "agent.login.failed", Detail: "agent " + quoteName(name)})
		})
		if err != nil {
			return portal.AgentSession{}, fmt.Errorf("agent login: %w", err)
		}
		return portal.AgentSession{}, outcome
	}
	token, err := s.token()
	if err != nil {
		return portal.AgentSession{}, err
	}
	expires := now.Add(AgentSessionTTL)
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.AgentSucceeded(a.ID); err != nil {
			return err
		}
		if err := tx.InsertAgentSession(AgentSessionRow{TokenHash: s.mac("agent-session", token), AgentID: a.ID,
			CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "agent.login"})
	})
	if err != nil {
		return portal.AgentSession{}, fmt.Errorf("agent login: %w", err)
	}
	return portal.AgentSession{Token: token, Name: a.Name, Role: portal.Role(a.Role), ExpiresAt: expires}, nil
}

// quoteName keeps a typed name short in the audit log.
func quoteName(name string) string {
	if len(name) > 64 {
		name = name[:64]
	}
	return fmt.Sprintf("%q", name)
}

func agentActor(a Agent) string { return "agent:" + a.Name }

// AgentLogout implements portal.Office.
func (s *Service) AgentLogout(ctx context.Context, token string) error {
	if token == "" || len(token) > portal.MaxFieldLen {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.DeleteAgentSession(s.mac("agent-session", token)) })
}

// agent returns the agent of a live session with at least role.
func (s *Service) agent(ctx context.Context, token string, role portal.Role) (Agent, error) {
	if token == "" || len(token) > portal.MaxFieldLen {
		return Agent{}, portal.ErrUnauthorized
	}
	var a Agent
	var expires time.Time
	err := s.store.View(ctx, func(tx Tx) (err error) {
		a, expires, err = tx.AgentBySession(s.mac("agent-session", token))
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return Agent{}, portal.ErrUnauthorized
	case err != nil:
		return Agent{}, fmt.Errorf("agent session: %w", err)
	case !s.clock.Now().Before(expires):
		return Agent{}, portal.ErrUnauthorized
	case role == portal.RoleAdmin && a.Role != string(portal.RoleAdmin):
		return Agent{}, portal.ErrForbidden
	}
	return a, nil
}
