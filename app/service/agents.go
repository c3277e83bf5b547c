package service

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"consulvote/app/mail"
	"consulvote/app/portal"
)

// AgentSessionTTL is how long an agent session lives without a new login.
const AgentSessionTTL = 30 * time.Minute

// MinAgentPassword is the shortest agent password accepted.
const MinAgentPassword = 12

// Enrollment is what an agent's second factor needs once, at creation:
// the TOTP secret (to show as a QR code: URL is the otpauth:// form) and
// the recovery codes. None of it is kept in clear: show it once.
type Enrollment struct {
	Secret        string // base32
	URL           string // otpauth://totp/consulvote:NAME?secret=…
	RecoveryCodes []string
}

// RecoveryCodes is how many single-use recovery codes an agent gets.
const RecoveryCodes = 10

// AddAgent creates a consular office account (from the command line).
// With secondFactor the agent gets a TOTP secret (RFC 6238) and recovery
// codes, returned once, and must give a code at every login; an admin
// must have one.
func (s *Operator) AddAgent(ctx context.Context, name string, role portal.Role, password string, secondFactor bool, scope portal.Scope) (Enrollment, error) {
	name = strings.TrimSpace(name)
	scope = scope.Normalize()
	if err := scope.Validate(); err != nil {
		return Enrollment{}, err
	}
	switch {
	case name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n"):
		return Enrollment{}, fmt.Errorf("agent name %q: 1 to 64 characters, no spaces", name)
	case role != portal.RoleAdmin && role != portal.RoleAgent:
		return Enrollment{}, fmt.Errorf("role %q: admin or agent", role)
	case utf8.RuneCountInString(password) < MinAgentPassword:
		return Enrollment{}, fmt.Errorf("password: at least %d characters", MinAgentPassword)
	case role == portal.RoleAdmin && !secondFactor:
		return Enrollment{}, fmt.Errorf("role admin: a second factor (TOTP) is required")
	}
	var enr Enrollment
	var sealed []byte
	var recovery [][]byte
	if secondFactor {
		var err error
		if enr, sealed, recovery, err = s.enroll(name); err != nil {
			return Enrollment{}, err
		}
	}
	var hash string
	var err error
	if werr := s.hashes.Wait(ctx, func() { hash, err = hashPassword(password, s.cfg.Argon2, s.rand) }); werr != nil {
		return Enrollment{}, werr
	}
	if err != nil {
		return Enrollment{}, err
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.AgentByName(name); err == nil {
			return fmt.Errorf("agent %q already exists", name)
		}
		if _, err := tx.InsertAgent(Agent{Name: name, Role: string(role), PasswordHash: hash, CreatedAt: now, TOTPSecret: sealed,
			Scope: scope}, recovery); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "agent.added",
			Detail: facts("name", name, "role", string(role), "second_factor", strconv.FormatBool(secondFactor), "scope", scopeFact(scope))})
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("add agent: %w", err)
	}
	return enr, nil
}

// enroll draws a second factor for the agent name: the enrolment to show
// once, the secret sealed for the store and the keyed hashes of the
// recovery codes.
func (s *core) enroll(name string) (enr Enrollment, sealed []byte, recovery [][]byte, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "consulvote", AccountName: name, Rand: s.rand})
	if err != nil {
		return Enrollment{}, nil, nil, fmt.Errorf("second factor: %w", err)
	}
	enr.Secret, enr.URL = key.Secret(), key.URL()
	if sealed, err = s.totpBox.Seal([]byte(enr.Secret), []byte(name)); err != nil {
		return Enrollment{}, nil, nil, err
	}
	for range RecoveryCodes {
		c, err := s.newCredential()
		if err != nil {
			return Enrollment{}, nil, nil, err
		}
		c = c[:4] + "-" + c[4:8] + "-" + c[8:]
		enr.RecoveryCodes = append(enr.RecoveryCodes, c)
		recovery = append(recovery, s.mac("agent-recovery", normalizeRecovery(c)))
	}
	return enr, sealed, recovery, nil
}

// SetAgentEmail sets the address the agent name's security alerts go to
// (logins slowed down, one-time codes locked); "" sends none.
func (s *Operator) SetAgentEmail(ctx context.Context, actor, name, email string) error {
	email = portal.NormalizeEmail(email)
	if email != "" && !portal.ValidEmail(email) {
		return fmt.Errorf("e-mail %q: not an address", email)
	}
	now := s.clock.Now()
	err := s.store.Update(ctx, func(tx Tx) error {
		a, err := tx.AgentByName(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		if err := tx.SetAgentEmail(a.ID, email); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: actor, Action: "agent.email_set", Detail: facts("agent", a.Name)})
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("agent %q: no such agent", name)
	}
	if err != nil {
		return fmt.Errorf("agent e-mail: %w", err)
	}
	return nil
}

// alertAgent queues for a, when it has an address, the e-mail saying
// why its logins are guarded (mail.AlertSlowed, mail.AlertCodesLocked).
func (s *core) alertAgent(tx Outbox, a Agent, reason string, count int, until, now time.Time) error {
	if a.Email == "" {
		return nil
	}
	msgID, err := s.messageID()
	if err != nil {
		return err
	}
	msg, err := s.cfg.Mail.AgentAlert(mail.Envelope{To: a.Email, Date: now, MessageID: msgID}, a.Name, reason, count, until)
	if err != nil {
		return err
	}
	return s.queue(tx, Message{Channel: ChannelEmail, Kind: "agent.alert", Recipient: msg.To, Subject: msg.Subject,
		Body: msg.Raw, CreatedAt: now})
}

// ResetSecondFactor gives the agent name a new second factor, for an
// agent who lost the device (and perhaps the recovery codes): a new TOTP
// secret and new recovery codes, returned once, like AddAgent's. The old
// secret, its recovery codes and the agent's open sessions stop working
// in the same transaction; the password is unchanged. It is offered to
// whoever runs the service's commands on its database, never over the
// office's API: nobody sees the old secret (it stays sealed), and the new
// one only once, for the agent to scan. An agent without a second factor
// gets one.
func (s *Operator) ResetSecondFactor(ctx context.Context, actor, name string) (Enrollment, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return Enrollment{}, fmt.Errorf("agent name %q: 1 to 64 characters", name)
	}
	enr, sealed, recovery, err := s.enroll(name)
	if err != nil {
		return Enrollment{}, err
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		a, err := tx.AgentByName(name)
		if err != nil {
			return err
		}
		sessions, err := tx.ResetSecondFactor(a.ID, sealed, recovery)
		if err != nil {
			return err
		}
		// The codes' lock and the name's delays go with the old factor.
		for _, k := range [][]byte{s.mac("agent-totp", a.Name), s.mac("agent-streak", a.Name), s.mac("agent-account", a.Name)} {
			if err := tx.ThrottleSucceeded(k); err != nil {
				return err
			}
		}
		return s.audit(tx, AuditEntry{At: now, Actor: actor, Action: "agent.second_factor_reset",
			Detail: facts("agent", a.Name, "role", a.Role, "sessions_ended", strconv.Itoa(sessions),
				"had_second_factor", strconv.FormatBool(len(a.TOTPSecret) > 0))})
	})
	if errors.Is(err, ErrNotFound) {
		return Enrollment{}, fmt.Errorf("agent %q: no such agent", name)
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("reset second factor: %w", err)
	}
	s.log.InfoContext(ctx, "agent second factor reset", "agent", name, "by", actor)
	return enr, nil
}

// normalizeRecovery drops the dashes and spaces people type in a
// recovery code.
func normalizeRecovery(c string) string {
	return strings.NewReplacer("-", "", " ", "").Replace(c)
}

// totpOpts are the TOTP parameters authenticator apps take by default.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// secondFactor checks code against a's second factor, inside the
// transaction that opens the session: a TOTP code of the current step
// (one either side for clock drift) not used before, or one of the
// recovery codes, used up. An agent without a second factor passes.
func (s *core) secondFactor(tx Agents, a Agent, code string, now time.Time) (bool, error) {
	if len(a.TOTPSecret) == 0 {
		return true, nil
	}
	code = strings.TrimSpace(code)
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		secret, err := s.totpBox.Open(a.TOTPSecret, []byte(a.Name))
		if err != nil {
			return false, fmt.Errorf("second factor: %w", err)
		}
		for skew := -1; skew <= 1; skew++ {
			at := now.Add(time.Duration(skew) * 30 * time.Second)
			want, err := totp.GenerateCodeCustom(string(secret), at, totpOpts)
			if err != nil {
				return false, fmt.Errorf("second factor: %w", err)
			}
			if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
				return tx.UseTOTPStep(a.ID, at.Unix()/30)
			}
		}
		return false, nil
	}
	if code == "" || len(code) > 32 {
		return false, nil
	}
	return tx.TakeRecoveryCode(a.ID, s.mac("agent-recovery", normalizeRecovery(code)))
}

// checkSecondFactor is secondFactor with the count of wrong one-time
// codes: past agentTOTPTries in a row (with the right password, since
// the password is checked first) TOTP codes are refused unchecked until a
// recovery code opens a session or the second factor is reset. It
// returns why it refused ("" when it passed), and whether this attempt
// locked the codes.
func (s *core) checkSecondFactor(tx secondFactorTx, a Agent, code string, now time.Time) (refused string, locked bool, err error) {
	if len(a.TOTPSecret) == 0 {
		return "", false, nil
	}
	key := s.mac("agent-totp", a.Name)
	if c := strings.TrimSpace(code); len(c) == 6 && strings.Trim(c, "0123456789") == "" {
		n, _, err := tx.ReserveThrottled(key, now, agentTOTPTries, forever)
		if err != nil || n == 0 {
			return "second_factor_locked", false, err
		}
		if ok, err := s.secondFactor(tx, a, code, now); err != nil || !ok {
			if err == nil && n == agentTOTPTries {
				locked, err = true, s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "agent.second_factor_locked",
					Detail: facts("agent", a.Name, "wrong_codes", strconv.Itoa(n))})
				if err == nil {
					err = s.alertAgent(tx, a, mail.AlertCodesLocked, n, time.Time{}, now)
				}
			}
			return "second_factor", locked, err
		}
	} else if ok, err := s.secondFactor(tx, a, code, now); err != nil || !ok {
		return "second_factor", false, err
	}
	return "", false, tx.ThrottleSucceeded(key)
}

// AgentLogin implements portal.Office. code is the one-time code of the
// agent's second factor (or a recovery code); a wrong or missing one is
// answered as a wrong password.
func (s *Office) AgentLogin(ctx context.Context, name, password, code string) (portal.AgentSession, error) {
	name = strings.TrimSpace(name)
	if err := checkAgentLogin(name, password); err != nil {
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
	now := s.clock.Now()
	if !ok || a.ID == 0 {
		return portal.AgentSession{}, s.agentLoginFailed(ctx, a, name, keys, now, "")
	}
	token, err := s.token()
	if err != nil {
		return portal.AgentSession{}, err
	}
	expires := now.Add(AgentSessionTTL)
	refused, err := s.openAgentSession(ctx, a, keys, code, s.mac("agent-session", token), now, expires)
	if err == nil && refused != "" {
		// The right password with a wrong code: answered as a wrong
		// password, counted by the same throttles.
		return portal.AgentSession{}, s.agentLoginFailed(ctx, a, name, keys, now, refused)
	}
	if err != nil {
		return portal.AgentSession{}, fmt.Errorf("agent login: %w", err)
	}
	return portal.AgentSession{Token: token, Name: a.Name, Role: portal.Role(a.Role), ExpiresAt: expires, May: s.permissions(a), Scope: a.Scope}, nil
}

// checkAgentLogin refuses an empty or oversized name or password.
func checkAgentLogin(name, password string) error {
	var fs []portal.FieldError
	if name == "" || len(name) > portal.MaxFieldLen {
		fs = append(fs, portal.FieldError{Field: portal.FieldName, Reason: portal.ReasonRequired})
	}
	if password == "" || len(password) > portal.MaxFieldLen {
		fs = append(fs, portal.FieldError{Field: portal.FieldPassword, Reason: portal.ReasonRequired})
	}
	return portal.InvalidInput(fs...)
}

// openAgentSession checks a's second factor and, if it holds, clears the
// login's throttles and stores the session (tokenHash) in one
// transaction. refused says why the second factor refused the code: that
// refusal commits the count of wrong codes, and opens nothing.
func (s *core) openAgentSession(ctx context.Context, a Agent, keys []throttle, code string, tokenHash []byte, now, expires time.Time) (refused string, err error) {
	totpLocked := false
	err = s.store.Update(ctx, func(tx Tx) error {
		// The second factor as it is now, the agent's row locked: a reset
		// of it during the password check must not let a code of the
		// secret it replaced open a session after it.
		cur, err := tx.AgentByName(a.Name)
		if err != nil {
			return err
		}
		if refused, totpLocked, err = s.checkSecondFactor(tx, cur, code, now); err != nil || refused != "" {
			return err // a refusal commits the count of wrong codes
		}
		for _, k := range keys {
			if err := tx.ThrottleSucceeded(k.key); err != nil {
				return err
			}
		}
		if err := tx.InsertAgentSession(AgentSessionRow{TokenHash: tokenHash, AgentID: a.ID,
			CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "agent.login"})
	})
	if err == nil && refused != "" && totpLocked {
		s.obs.Locked("agent_totp")
	}
	return refused, err
}

// agentLoginFailed counts a failed login (why: the second factor's
// refusal, or "" for a wrong name or password) under each of its
// throttles, and returns the answer: a wrong login, or a wait if a
// throttle now blocks.
func (s *core) agentLoginFailed(ctx context.Context, a Agent, name string, keys []throttle, now time.Time, why string) error {
	var outcome error
	var sourceBlocked, slowed bool
	err := s.store.Update(ctx, func(tx Tx) error {
		// A store may run this again (Store.Update): start from nothing.
		outcome, sourceBlocked, slowed = portal.ErrBadLogin, false, false
		for _, k := range keys {
			n := k.n
			if k.scope == "account" {
				n = keys[len(keys)-2].n // the streak decides
			}
			until, err := tx.ThrottleFailed(k.key, n, k.blockAfter, now, k.base, k.maxBlock)
			if err != nil {
				return err
			}
			if until.IsZero() {
				continue
			}
			if u := (*portal.Error)(nil); !errors.As(outcome, &u) || until.After(u.Until) {
				outcome = &portal.Error{Code: portal.CodeRateLimited, Until: until}
			}
			sourceBlocked = sourceBlocked || k.scope != "account"
			if k.scope == "account" && until.Sub(now) == accountBase {
				slowed = true // the first wait of a streak: tell the agent
				if err := s.alertAgent(tx, a, mail.AlertSlowed, n, until, now); err != nil {
					return err
				}
			}
			if err := s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "agent.throttled",
				Detail: facts("scope", k.scope, "name", shortName(name), "until", until.UTC().Format(time.RFC3339))}); err != nil {
				return err
			}
		}
		return s.audit(tx, AuditEntry{At: now, Actor: "anonymous", Action: "agent.login.failed", Detail: facts("name", shortName(name), "why", why)})
	})
	if err != nil {
		return fmt.Errorf("agent login: %w", err)
	}
	if sourceBlocked {
		s.obs.Locked("agent_source") // a source blocked, for a name or for all
	}
	if slowed {
		s.obs.Locked("agent_account") // a name's logins slowed down, from every source
	}
	return outcome
}

// permissions is what a may do under the service's settings, told to the
// screens at login. The approval of a change checks it too; the
// admin-only calls check the role (s.agent), which is the same rule.
func (s *core) permissions(a Agent) portal.Permissions {
	admin := a.Role == string(portal.RoleAdmin)
	return portal.Permissions{
		ApproveContactChanges: admin || s.cfg.ApprovalRole == portal.RoleAgent,
		ManageRoll:            admin && a.Scope.Central,
		Audit:                 admin,
	}
}

// Agent logins are throttled, not locked: a lock on the name alone let
// anyone who reached the port lock every admin out. A source gets
// agentTries wrong passwords per name, agentSourceTries in all, per
// window; then it is blocked for agentBlock, doubled at each new block up
// to agentMaxBlock, while the account stays open from everywhere else.
//
// Over all sources, a name's attempts in a row (no success between) are
// counted under a key of its own ("streak"); from the agentAccountTries-th
// failure in a row on, the name's logins are one at a time, each after a
// wait (the "account" key's block) twice as long as the one before: a
// second, then 2 s, …, a day after 37 in a row, a year after 45, until a
// login succeeds or the second factor is reset. Nobody can hold an
// account for longer than the waits they sat through, and the failures in
// a row stay far below the 100 of NIST SP 800-63B 5.2.2.
//
// agentTOTPTries wrong one-time codes in a row, with the right password,
// lock the TOTP codes until a recovery code opens a session or the second
// factor is reset.
const (
	agentTries        = 5
	agentSourceTries  = 20
	agentWindow       = 15 * time.Minute
	agentBlock        = time.Minute
	agentMaxBlock     = 24 * time.Hour
	agentAccountTries = 20
	accountBase       = time.Second
	accountMaxBlock   = 10 * 365 * 24 * time.Hour
	agentTOTPTries    = 10
	forever           = 100 * 365 * 24 * time.Hour
)

// throttle is one reserved attempt under a key.
type throttle struct {
	key   []byte
	scope string // for the audit log: "name" (this name from this source), "source" (all names), "streak" or "account" (this name from all)
	n     int
	max   int
	// blockAfter failures in the window block the key for base, doubled
	// at each new block up to maxBlock.
	blockAfter     int
	base, maxBlock time.Duration
	window         time.Duration
}

// reserveThrottles reserves the attempt under both keys of a login from
// source with name (before the slow check), or answers rate_limited (or
// unavailable while the window's attempts are being checked).
func (s *core) reserveThrottles(ctx context.Context, name, source string) ([]throttle, error) {
	keys := []throttle{
		{key: s.mac("agent-throttle", name+"\x00"+source), scope: "name", max: agentTries, blockAfter: agentTries,
			base: agentBlock, maxBlock: agentMaxBlock, window: agentWindow},
		{key: s.mac("agent-throttle-source", source), scope: "source", max: agentSourceTries, blockAfter: agentSourceTries,
			base: agentBlock, maxBlock: agentMaxBlock, window: agentWindow},
		{key: s.mac("agent-streak", name), scope: "streak", max: 1 << 30, blockAfter: 1 << 30, window: forever},
		{key: s.mac("agent-account", name), scope: "account", max: agentAccountTries, blockAfter: agentAccountTries,
			base: accountBase, maxBlock: accountMaxBlock, window: agentWindow},
	}
	now := s.clock.Now()
	var refused error
	err := s.store.Update(ctx, func(tx Tx) error {
		for i := range keys {
			if keys[i].scope == "account" && keys[i-1].n > agentAccountTries {
				keys[i].max = 1 // one at a time once the streak is long
			}
			n, until, err := tx.ReserveThrottled(keys[i].key, now, keys[i].max, keys[i].window)
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
func (s *core) releaseThrottles(ctx context.Context, keys []throttle, err error) error {
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

// shortName keeps a typed name short in the audit log.
func shortName(name string) string {
	if len(name) > 64 {
		name = strings.ToValidUTF8(name[:64], "")
	}
	return name
}

func agentActor(a Agent) string { return "agent:" + a.Name }

// AgentLogout implements portal.Office.
func (s *Office) AgentLogout(ctx context.Context, token string) error {
	if token == "" || len(token) > portal.MaxFieldLen {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.DeleteAgentSession(s.mac("agent-session", token)) })
}

// agent returns the agent of a live session with at least role.
func (s *core) agent(ctx context.Context, token string, role portal.Role) (Agent, error) {
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
