package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"consulvote/app/portal"
)

var (
	_ portal.Office    = (*Service)(nil)
	_ portal.RollAdmin = (*Service)(nil)
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
		return tx.Audit(AuditEntry{At: now, Actor: "system", Action: "agent.added", Detail: name + " (" + string(role) + ")"})
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
					if err := tx.Audit(AuditEntry{At: now, Actor: "system", Action: "agent.locked", Detail: "agent " + quoteName(name)}); err != nil {
						return err
					}
				}
			}
			return tx.Audit(AuditEntry{At: now, Actor: "anonymous", Action: "agent.login.failed", Detail: "agent " + quoteName(name)})
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
		return tx.Audit(AuditEntry{At: now, Actor: agentActor(a), Action: "agent.login"})
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

// reason checks the reason an agent typed for an action.
func reason(r string) (string, error) {
	r = strings.TrimSpace(r)
	switch {
	case r == "":
		return "", portal.InvalidInput(portal.FieldError{Field: portal.FieldReason, Reason: portal.ReasonRequired})
	case len(r) > 500:
		return "", portal.InvalidInput(portal.FieldError{Field: portal.FieldReason, Reason: portal.ReasonTooLong})
	}
	return r, nil
}

// FindVoters implements portal.Office.
func (s *Service) FindVoters(ctx context.Context, token, query string) ([]portal.VoterSummary, error) {
	if _, err := s.agent(ctx, token, portal.RoleAgent); err != nil {
		return nil, err
	}
	query = strings.TrimSpace(query)
	if query == "" || len(query) > portal.MaxEmailLen {
		return nil, portal.InvalidInput(portal.FieldError{Field: portal.FieldQuery, Reason: portal.ReasonRequired})
	}
	var vs []Voter
	err := s.store.View(ctx, func(tx Tx) (err error) {
		vs, err = tx.FindVoters(portal.NormalizeNUMIC(query), portal.NormalizeEmail(query), 50)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find voters: %w", err)
	}
	out := make([]portal.VoterSummary, len(vs))
	for i, v := range vs {
		out[i] = summary(v)
	}
	return out, nil
}

func summary(v Voter) portal.VoterSummary {
	return portal.VoterSummary{ID: v.ID, NUMIC: v.NUMIC, LastName: v.LastName, FirstNames: v.FirstNames,
		Email: v.Email, Circonscription: v.Circonscription}
}

// VoterFile implements portal.Office.
func (s *Service) VoterFile(ctx context.Context, token string, voterID int64) (portal.VoterFile, error) {
	if _, err := s.agent(ctx, token, portal.RoleAgent); err != nil {
		return portal.VoterFile{}, err
	}
	now := s.clock.Now()
	var f portal.VoterFile
	err := s.store.View(ctx, func(tx Tx) error {
		v, err := tx.VoterByID(voterID)
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
		ms, err := tx.VoterMessages(voterID, 50)
		if err != nil {
			return err
		}
		for _, m := range ms {
			f.Messages = append(f.Messages, messageState(m))
		}
		hist, err := tx.VoterHistory(voterID, 100)
		for _, h := range hist {
			f.History = append(f.History, portal.HistoryEntry{At: h.At, Actor: h.Actor, Action: h.Action, Detail: h.Detail})
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

func messageState(m Message) portal.MessageState {
	return portal.MessageState{ID: m.ID, Channel: string(m.Channel), Kind: m.Kind, Recipient: m.Recipient,
		State: m.State, Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt}
}

// deskAction runs an agent's action on a voter: session and role checked,
// reason required, the action and its reason audited in the same
// transaction.
func (s *Service) deskAction(ctx context.Context, token string, voterID int64, why, action string, fn func(Tx, time.Time) error) error {
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
		if _, err := tx.VoterByID(voterID); err != nil {
			return err
		}
		if err := fn(tx, now); err != nil {
			return err
		}
		return tx.Audit(AuditEntry{At: now, Actor: agentActor(a), Action: action, VoterID: voterID, Detail: "reason: " + why})
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
func (s *Service) UnlockVoter(ctx context.Context, token string, voterID int64, why string) error {
	return s.deskAction(ctx, token, voterID, why, "voter.unlocked", func(tx Tx, _ time.Time) error {
		return tx.Unlock(voterID)
	})
}

// CancelLinks implements portal.Office.
func (s *Service) CancelLinks(ctx context.Context, token string, voterID int64, why string) (int, error) {
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

// OutboxStatus implements portal.Office.
func (s *Service) OutboxStatus(ctx context.Context, token string) (portal.OutboxStatus, error) {
	if _, err := s.agent(ctx, token, portal.RoleAgent); err != nil {
		return portal.OutboxStatus{}, err
	}
	var st portal.OutboxStatus
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if st.Counts, err = tx.OutboxCounts(); err != nil {
			return err
		}
		failed, err := tx.FailedMessages(100)
		for _, m := range failed {
			st.Failed = append(st.Failed, messageState(m))
		}
		return err
	})
	if err != nil {
		return portal.OutboxStatus{}, fmt.Errorf("outbox status: %w", err)
	}
	return st, nil
}

// RetryMessage implements portal.Office.
func (s *Service) RetryMessage(ctx context.Context, token string, id int64, why string) error {
	a, err := s.agent(ctx, token, portal.RoleAgent)
	if err != nil {
		return err
	}
	if why, err = reason(why); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.store.Update(ctx, func(tx Tx) error {
		ok, err := tx.Requeue(id, now)
		if err != nil {
			return err
		}
		if !ok {
			return portal.ErrNotFound
		}
		return tx.Audit(AuditEntry{At: now, Actor: agentActor(a), Action: "outbox.retry",
			Detail: fmt.Sprintf("message %d, reason: %s", id, why)})
	})
}

// VerifyAudit implements portal.Office (admin).
func (s *Service) VerifyAudit(ctx context.Context, token string) (portal.AuditReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return portal.AuditReport{}, err
	}
	problems, rows, err := s.VerifyAuditLog(ctx)
	if err != nil {
		return portal.AuditReport{}, err
	}
	r := portal.AuditReport{Rows: rows}
	for _, p := range problems {
		r.Problems = append(r.Problems, p.String())
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		return tx.Audit(AuditEntry{At: now, Actor: agentActor(a), Action: "audit.verified",
			Detail: fmt.Sprintf("%d rows, %d problems", rows, len(problems))})
	})
	return r, err
}

// AuditEntries implements portal.Office (admin).
func (s *Service) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
	if _, err := s.agent(ctx, token, portal.RoleAdmin); err != nil {
		return nil, err
	}
	var out []portal.HistoryEntry
	err := s.store.View(ctx, func(tx Tx) error {
		var voterID int64
		if n := portal.NormalizeNUMIC(f.NUMIC); n != "" {
			v, err := tx.VoterByNUMIC(n)
			if errors.Is(err, ErrNotFound) {
				return nil // no such voter: no entry
			}
			if err != nil {
				return err
			}
			voterID = v.ID
		}
		es, err := tx.AuditSearch(strings.TrimSpace(f.Actor), strings.TrimSpace(f.Action), voterID, 200)
		for _, e := range es {
			out = append(out, portal.HistoryEntry{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Detail})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}

// ImportRollAs implements portal.RollAdmin: ImportRoll for an admin.
func (s *Service) ImportRollAs(ctx context.Context, token string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return portal.ImportReport{}, err
	}
	return s.ImportRoll(ctx, agentActor(a), r, progress)
}

// SendFirstCredentialsAs implements portal.RollAdmin.
func (s *Service) SendFirstCredentialsAs(ctx context.Context, token, campaign string, progress func(portal.CampaignReport)) (portal.CampaignReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return portal.CampaignReport{}, err
	}
	return s.SendFirstCredentials(ctx, agentActor(a), campaign, progress)
}
