// Package service applies the rules of the portal: security codes, the
// renewal of a lost identifier, logins. It implements portal.Portal on top
// of a Store, once, for both the app's local mode and the server.
package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"consulvote/app/captcha"
	"consulvote/app/mail"
	"consulvote/app/pool"
	"consulvote/app/portal"
	"consulvote/app/seal"
)

// Clock tells the time; tests replace it to cross expiry boundaries
// without sleeping.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options are the service's replaceable parts. The zero value uses the
// system clock, crypto/rand and no logging.
type Options struct {
	Clock Clock
	Rand  io.Reader // tokens, identifiers, salts
	// CodeRand draws the digits of security codes. Only the picture shows
	// them, so tests that play the user set it to know what to type.
	CodeRand io.Reader
	Logger   *slog.Logger
}

// Service implements portal.Portal.
type Service struct {
	store Store
	cfg   Config
	numic *regexp.Regexp
	box   *seal.Box
	clock Clock
	rand  io.Reader
	codes io.Reader
	log   *slog.Logger
	// dummyHash is checked when a login names no voter, so that an
	// unknown identifier costs the same argon2id time as a wrong password.
	// Made on first need: it costs a hash, and start-up should not.
	dummyHash func() (string, error)
	// hashes bounds the argon2id work of every caller (see Config.HashWorkers).
	hashes *pool.Pool
}

var (
	_ portal.Portal = (*Service)(nil)
	_ portal.Outbox = (*Service)(nil)
)

// New returns a service on st with the rules of cfg.
func New(st Store, cfg Config, opt Options) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		store: st,
		cfg:   cfg,
		numic: regexp.MustCompile(cfg.NUMICPattern),
		clock: opt.Clock,
		rand:  opt.Rand,
		codes: opt.CodeRand,
		log:   opt.Logger,
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.codes == nil {
		s.codes = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.box, err = seal.New(cfg.Secret, "outbox"); err != nil {
		return nil, err
	}
	workers := cfg.HashWorkers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	queue := cfg.HashQueue
	if queue == 0 {
		queue = 32 * workers
	}
	s.hashes = pool.New(workers, queue)
	s.dummyHash = sync.OnceValues(func() (string, error) { return hashPassword("dummy", cfg.Argon2, s.rand) })
	return s, nil
}

// mac is the keyed SHA-256 (HMAC) under which identifiers, tokens, codes
// and rate-limit keys are stored; purpose separates the uses.
func (s *Service) mac(purpose, value string) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

func (s *Service) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// token returns a fresh 32-byte secret, base64url-encoded.
func (s *Service) token() (string, error) {
	b, err := s.randomBytes(portal.TokenBytes)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// credentialAlphabet is [A-Za-z0-9], as the portal's own credentials.
// Dropping the look-alikes (0/O, 1/l/I) would leave 56 symbols, 69.7 bits
// for 12 characters, under the 70 we want; all 62 give 71.4 bits.
const credentialAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newCredential draws a 12-character identifier or password, uniformly.
func (s *Service) newCredential() (string, error) {
	b := make([]byte, portal.IdentifierLen)
	n := big.NewInt(int64(len(credentialAlphabet)))
	for i := range b {
		k, err := rand.Int(s.rand, n)
		if err != nil {
			return "", fmt.Errorf("random credential: %w", err)
		}
		b[i] = credentialAlphabet[k.Int64()]
	}
	return string(b), nil
}

func (s *Service) messageID() (string, error) {
	b, err := s.randomBytes(16)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// NewSecurityCode implements portal.Portal.
func (s *Service) NewSecurityCode(ctx context.Context) (portal.SecurityCode, error) {
	digits, err := captcha.Digits(s.codes, portal.SecurityCodeLen)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	idb, err := s.randomBytes(16)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	id := hex.EncodeToString(idb)
	png, err := captcha.PNG(digits)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	now := s.clock.Now()
	expires := now.Add(s.cfg.CodeTTL)
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.PurgeSecurityCodes(now); err != nil {
			return err
		}
		return tx.InsertSecurityCode(id, s.mac("code", id+":"+digits), expires)
	})
	if err != nil {
		return portal.SecurityCode{}, fmt.Errorf("new security code: %w", err)
	}
	return portal.SecurityCode{ID: id, PNG: png, ExpiresAt: expires}, nil
}

// checkCode consumes the security code id and checks the answer: a code
// can be tried once, right or wrong.
func (s *Service) checkCode(ctx context.Context, id, answer string) error {
	var hash []byte
	var expires time.Time
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		hash, expires, err = tx.TakeSecurityCode(id)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return portal.ErrSecurityCodeExpired
	case err != nil:
		return fmt.Errorf("security code: %w", err)
	case !s.clock.Now().Before(expires):
		return portal.ErrSecurityCodeExpired
	case !hmac.Equal(hash, s.mac("code", id+":"+answer)):
		return portal.ErrSecurityCodeWrong
	}
	return nil
}

// RequestIdentifierRenewal implements portal.Portal.
func (s *Service) RequestIdentifierRenewal(ctx context.Context, req portal.IdentifierRenewalRequest) error {
	req = req.Normalize()
	if err := req.Validate(s.numic); err != nil {
		return err
	}
	if err := s.checkCode(ctx, req.CodeID, req.Code); err != nil {
		return err
	}
	// From here on the answer could depend on the roll: pad its timing.
	defer waitUntil(ctx, time.Now().Add(s.cfg.RequestFloor))
	// Drawn whether or not the voter exists, so both paths cost the same.
	token, err := s.token()
	if err != nil {
		return err
	}
	msgID, err := s.messageID()
	if err != nil {
		return err
	}
	now := s.clock.Now()
	numicKey := s.mac("numic", req.NUMIC)
	var outcome error
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if outcome, err = s.limitRate(tx, numicKey, now, "identifier.request.rate_limited"); outcome != nil || err != nil {
			return err
		}

		v, err := tx.VoterByNUMIC(req.NUMIC)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		link := portal.LinkURL(s.cfg.PublicURL, token)
		expires := now.Add(s.cfg.LinkTTL)
		if err != nil || v.Email != req.Email {
			// Compose anyway, to spend the time a match spends.
			if _, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: req.Email, Date: now, MessageID: msgID}, link, expires); err != nil {
				return err
			}
			e := AuditEntry{At: now, Actor: "anonymous", Action: "identifier.request.no_match",
				Detail: "numic#" + hex.EncodeToString(numicKey[:8])}
			if v.ID != 0 {
				e.VoterID, e.Detail = v.ID, "e-mail does not match"
			}
			return tx.Audit(e)
		}

		if until, ok, err := s.conflict(tx, v, "", v.PasswordRenewedAt, now); err != nil {
			return err
		} else if ok {
			outcome = &portal.Error{Code: portal.CodeRenewalConflict, Until: until}
			return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.request.refused",
				VoterID: v.ID, Detail: "password renewal pending or within cool-down"})
		}

		if err := tx.ReplaceLinks(v.ID, LinkIdentifier, now); err != nil {
			return err
		}
		if _, err := tx.InsertLink(Link{VoterID: v.ID, Kind: LinkIdentifier, TokenHash: s.mac("link", token),
			CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		msg, err := s.cfg.Mail.RenewalLink(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID}, link, expires)
		if err != nil {
			return err
		}
		if err := s.enqueue(tx, v, "identifier.link", msg, now); err != nil {
			return err
		}
		return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.request", VoterID: v.ID})
	})
	if err != nil {
		return fmt.Errorf("identifier renewal request: %w", err)
	}
	if outcome != nil {
		s.log.InfoContext(ctx, "identifier renewal request refused", "code", portal.ErrorCode(outcome))
		return outcome
	}
	s.log.InfoContext(ctx, "identifier renewal requested")
	return nil
}

// limitRate counts a request under key (a keyed hash of the NUMIC). Over
// the limit it audits the refusal and returns the error to answer. The
// limit counts every request for the NUMIC, matched or not, so that
// hitting it tells nothing about the roll.
func (s *Service) limitRate(tx Tx, key []byte, now time.Time, action string) (refused, err error) {
	recent, err := tx.RateEvents(key, now.Add(-s.cfg.RateWindow))
	if err != nil {
		return nil, err
	}
	if len(recent) >= s.cfg.MaxRequests {
		return &portal.Error{Code: portal.CodeRateLimited, Until: recent[0].Add(s.cfg.RateWindow)},
			tx.Audit(AuditEntry{At: now, Actor: "anonymous", Action: action, Detail: "numic#" + hex.EncodeToString(key[:8])})
	}
	return nil, tx.AddRateEvent(key, now)
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
func (s *Service) conflict(tx Tx, v Voter, pending LinkKind, lastOther, now time.Time) (time.Time, bool, error) {
	if pending != "" {
		ok, err := tx.HasPendingLink(v.ID, pending, now)
		if err != nil {
			return time.Time{}, false, err
		}
		if ok {
			return time.Time{}, true, nil
		}
	}
	if !lastOther.IsZero() && now.Before(lastOther.Add(s.cfg.Cooldown)) {
		return lastOther.Add(s.cfg.Cooldown), true, nil
	}
	return time.Time{}, false, nil
}

// enqueue seals an e-mail and queues it in tx.
func (s *Service) enqueue(tx Tx, v Voter, kind string, msg mail.Message, now time.Time) error {
	return s.queue(tx, Message{VoterID: v.ID, Channel: ChannelEmail, Kind: kind, Recipient: msg.To,
		Subject: msg.Subject, Body: msg.Raw, CreatedAt: now})
}

// queue seals m.Body, bound to its recipient, and queues m in tx.
func (s *Service) queue(tx Tx, m Message) error {
	body, err := s.box.Seal(m.Body, []byte(m.Recipient))
	if err != nil {
		return err
	}
	m.Body, m.State = body, "pending"
	_, err = tx.Enqueue(m)
	return err
}

func voterActor(id int64) string { return "voter:" + strconv.FormatInt(id, 10) }

// InspectLink implements portal.Portal. It only reads.
func (s *Service) InspectLink(ctx context.Context, link string) (portal.LinkStatus, error) {
	token, err := portal.ParseLinkToken(link)
	if err != nil {
		return portal.LinkStatus{}, err
	}
	var l Link
	err = s.store.View(ctx, func(tx Tx) error {
		l, err = tx.LinkByTokenHash(s.mac("link", token))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return portal.LinkStatus{State: portal.LinkUnknown}, nil
	}
	if err != nil {
		return portal.LinkStatus{}, fmt.Errorf("inspect link: %w", err)
	}
	return portal.LinkStatus{State: l.State(s.clock.Now()), ExpiresAt: l.ExpiresAt}, nil
}

// ConfirmIdentifierRenewal implements portal.Portal.
func (s *Service) ConfirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	req.Code = strings.TrimSpace(req.Code)
	if err := req.Validate(); err != nil {
		return portal.Renewal{}, err
	}
	token, _ := portal.ParseLinkToken(req.Link) // checked by Validate
	now := s.clock.Now()

	var l Link
	var v Voter
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if l, err = tx.LinkByTokenHash(s.mac("link", token)); err != nil {
			return err
		}
		v, err = tx.VoterByID(l.VoterID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return portal.Renewal{}, portal.ErrLinkUnknown
	}
	if err != nil {
		return portal.Renewal{}, fmt.Errorf("confirm renewal: %w", err)
	}
	if err := (portal.LinkStatus{State: l.State(now)}).Err(); err != nil {
		return portal.Renewal{}, err
	}
	if now.Before(v.LockedUntil) {
		return portal.Renewal{}, &portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}
	}

	// An expired code is not a guess: ask for a new one without counting.
	codeErr := s.checkCode(ctx, req.CodeID, req.Code)
	if codeErr != nil && !errors.Is(codeErr, portal.ErrSecurityCodeWrong) {
		return portal.Renewal{}, codeErr
	}
	// Hashing runs outside any transaction: it is the slow part and must
	// not hold the write lock.
	ok := false
	if codeErr == nil {
		if ok, err = s.checkPassword(ctx, v.PasswordHash, req.Password); err != nil {
			return portal.Renewal{}, err
		}
	}
	if !ok {
		return portal.Renewal{}, s.fail(ctx, v, "identifier.confirm.failed", portal.ErrWrongPasswordOrCode)
	}

	identifier, err := s.newCredential()
	if err != nil {
		return portal.Renewal{}, err
	}
	msgID, err := s.messageID()
	if err != nil {
		return portal.Renewal{}, err
	}
	now = s.clock.Now()
	var outcome error
	err = s.store.Update(ctx, func(tx Tx) error {
		outcome = nil
		ok, err := tx.ConsumeLink(l.ID, now)
		if err != nil {
			return err
		}
		if !ok { // someone else consumed, replaced or revoked it meanwhile
			if l, err = tx.LinkByTokenHash(l.TokenHash); err != nil {
				return err
			}
			outcome = portal.LinkStatus{State: l.State(now)}.Err()
			return nil
		}
		if err := tx.SetIdentifier(v.ID, s.mac("identifier", identifier), now); err != nil {
			return err
		}
		if err := tx.ClearFailures(v.ID); err != nil {
			return err
		}
		if err := tx.DeleteSessionsOf(v.ID); err != nil {
			return err
		}
		msg, err := s.cfg.Mail.IdentifierChanged(mail.Envelope{To: v.Email, Lang: v.Lang, Date: now, MessageID: msgID})
		if err != nil {
			return err
		}
		if err := s.enqueue(tx, v, "identifier.changed", msg, now); err != nil {
			return err
		}
		return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "identifier.renewed", VoterID: v.ID})
	})
	if err != nil {
		return portal.Renewal{}, fmt.Errorf("confirm renewal: %w", err)
	}
	if outcome != nil {
		return portal.Renewal{}, outcome
	}
	s.log.InfoContext(ctx, "identifier renewed", "voter", v.ID)
	return portal.Renewal{Identifier: identifier, NUMIC: v.NUMIC}, nil
}

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

// countFailure counts one failure of v in tx and audits it; at the limit
// it locks v, kills its pending links and returns when the lock ends.
func (s *Service) countFailure(tx Tx, v Voter, action string, now time.Time) (lockedUntil time.Time, err error) {
	n, err := tx.AddFailure(v.ID)
	if err != nil {
		return time.Time{}, err
	}
	if err := tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: action, VoterID: v.ID,
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
	return until, tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "voter.locked", VoterID: v.ID,
		Detail: "until " + until.UTC().Format(time.RFC3339)})
}

// Login implements portal.Portal.
func (s *Service) Login(ctx context.Context, identifier, password string) (portal.Session, error) {
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
			return tx.Audit(AuditEntry{At: now, Actor: "anonymous", Action: "login.failed", Detail: "unknown identifier"})
		})
		if err != nil {
			return portal.Session{}, fmt.Errorf("login: %w", err)
		}
		return portal.Session{}, portal.ErrBadLogin
	}
	if err != nil {
		return portal.Session{}, fmt.Errorf("login: %w", err)
	}
	if now := s.clock.Now(); now.Before(v.LockedUntil) {
		return portal.Session{}, &portal.Error{Code: portal.CodeLocked, Until: v.LockedUntil}
	}
	ok, err := s.checkPassword(ctx, v.PasswordHash, password)
	if err != nil {
		return portal.Session{}, err
	}
	if !ok {
		return portal.Session{}, s.fail(ctx, v, "login.failed", portal.ErrBadLogin)
	}

	token, err := s.token()
	if err != nil {
		return portal.Session{}, err
	}
	now := s.clock.Now()
	sess := Session{TokenHash: s.mac("session", token), VoterID: v.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.ClearFailures(v.ID); err != nil {
			return err
		}
		if err := tx.SetLastLogin(v.ID, now); err != nil {
			return err
		}
		if err := tx.InsertSession(sess); err != nil {
			return err
		}
		return tx.Audit(AuditEntry{At: now, Actor: voterActor(v.ID), Action: "login", VoterID: v.ID})
	})
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
