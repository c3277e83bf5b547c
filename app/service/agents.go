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
	// From here an unknown name goes the way of a known one: the same
	// throttles (keyed by the name typed, not by the account), the same
	// hash (a dummy one), the same answers.
	hash := a.PasswordHash
	if errors.Is(err, ErrNotFound) {
		if hash, err = s.dummyHash(); err != nil {
			return portal.AgentSession{}, err
		}
	}
	keys, err := s.reserveThrottles(ctx, name, portal.Client(ctx))
	if err != nil {
		return portal.AgentSession{}, err
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		return portal.AgentSession{}, s.releaseThrottles(ctx, keys, err)
	}
	ok = ok && a.ID != 0
	now := s.clock.Now()
	if !ok {
		var outcome error = portal.ErrBadLogin
		err := s.store.Update(ctx, func(tx Tx) error {
			for _, k := range keys {
				until, err := tx.ThrottleFailed(k.key, k.n, k.max, now, agentBlock, agentMaxBlock)
				if err != nil {
					return err
				}
				if !until.IsZero() {
					outcome = &portal.Error{Code: portal.CodeRateLimited, Until: until}
					if err := s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "agent.throttled",
						Detail: k.what + " " + quoteName(name) + " until " + until.UTC().Format(time.RFC3339)}); err != nil {
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
		for _, k := range keys {
			if err := tx.ThrottleSucceeded(k.key); err != nil {
				return err
			}
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

// Agent logins are throttled, not locked: a lock on the name alone let
// anyone who reached the port lock every admin out. A source gets
// agentTries wrong passwords per name, agentSourceTries in all, per
// window; then it is blocked for agentBlock, doubled at each new block up
// to agentMaxBlock, while the account stays open from everywhere else.
const (
	agentTries       = 5
	agentSourceTries = 20
	agentWindow      = 15 * time.Minute
	agentBlock       = time.Minute
	agentMaxBlock    = 24 * time.Hour
)

// throttle is one reserved attempt under a key.
type throttle struct {
	key  []byte
	what string // for the audit log
	n    int
	max  int
}

// reserveThrottles reserves the attempt under both keys of a login from
// source with name (before the slow check), or answers rate_limited (or
// unavailable while the window's attempts are being checked).
func (s *Service) reserveThrottles(ctx context.Context, name, source string) ([]throttle, error) {
	keys := []throttle{
		{key: s.mac("agent-throttle", name+"\x00"+source), what: "source for agent", max: agentTries},
		{key: s.mac("agent-throttle-source", source), what: "source, all names, last", max: agentSourceTries},
	}
	now := s.clock.Now()
	var refused error
	err := s.store.Update(ctx, func(tx Tx) error {
		for i := range keys {
			n, until, err := tx.ReserveThrottled(keys[i].key, now, keys[i].max, agentWindow)
			if err != nil {
				return err
			}
			if n == 0 {
				refused = portal.ErrUnavailable
				if !until.IsZero() {
					refused = &portal.Error{Code: portal.CodeRateLimited, Until: until}
				}
				return refused // rolls back the other key's reservation
			}
			keys[i].n = n
		}
		return nil
	})
	if refused != nil {
		s.log.InfoContext(ctx, "agent login throttled", "code", portal.ErrorCode(refused))
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("agent login: %w", err)
	}
	return keys, nil
}

// releaseThrottles gives back the attempts of a login that checked
// nothing; err is returned as is.
func (s *Service) releaseThrottles(ctx context.Context, keys []throttle, err error) error {
	rerr := s.store.Update(ctx, func(tx Tx) error {
		for _, k := range keys {
			if err := tx.ReleaseThrottled(k.key); err != nil {
				return err
			}
		}
		return nil
	})
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("release throttle: %w", rerr))
	}
	return err
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
