package service

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"consulvote/app/captcha"
	"consulvote/app/pool"
	"consulvote/app/portal"
)

// codeSealAD binds a sealed code id to its use.
const codeSealAD = "security-code-id"

// NewSecurityCode implements portal.Portal. It writes nothing: the id
// carries the digits and the expiry, sealed under the service's key, so
// that any instance can check the code, or say it (SecurityCodeAudio),
// without storing it; single use is recorded when the code is tried.
func (s *Portal) NewSecurityCode(ctx context.Context) (portal.SecurityCode, error) {
	digits, err := captcha.Digits(s.codes, portal.SecurityCodeLen)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	png, err := captcha.PNG(digits)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	expires := s.clock.Now().Add(s.cfg.CodeTTL)
	plain := binary.BigEndian.AppendUint64([]byte(digits), uint64(expires.Unix()))
	sealed, err := s.codeBox.Seal(plain, []byte(codeSealAD))
	if err != nil {
		return portal.SecurityCode{}, fmt.Errorf("new security code: %w", err)
	}
	s.obs.SecurityCode("drawn")
	return portal.SecurityCode{ID: base64.RawURLEncoding.EncodeToString(sealed), PNG: png, ExpiresAt: expires}, nil
}

// openCode returns the digits and the expiry sealed in id; ok is false
// for an id that does not open (not drawn here, or altered).
func (s *core) openCode(id string) (digits string, expires time.Time, ok bool) {
	sealed, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(id) > portal.MaxFieldLen {
		return "", time.Time{}, false
	}
	plain, err := s.codeBox.Open(sealed, []byte(codeSealAD))
	if err != nil || len(plain) != portal.SecurityCodeLen+8 {
		return "", time.Time{}, false
	}
	return string(plain[:portal.SecurityCodeLen]), time.Unix(int64(binary.BigEndian.Uint64(plain[portal.SecurityCodeLen:])), 0), true
}

// triedCode is an answer to a security code, read from the code's id.
type triedCode struct {
	key     []byte // the keyed hash of the id: its record once tried
	expires time.Time
	// err is the answer's verdict before single use: nil (right),
	// ErrSecurityCodeWrong, or ErrSecurityCodeExpired (also for an id
	// that does not open).
	err error
}

// readCode checks answer against the code that id carries, without the
// database. A code counts once only when spendCode records it, in the
// transaction that acts on the answer.
func (s *core) readCode(id, answer string) triedCode {
	digits, expires, ok := s.openCode(id)
	switch {
	case !ok || !s.clock.Now().Before(expires):
		return triedCode{err: portal.ErrSecurityCodeExpired}
	case subtle.ConstantTimeCompare([]byte(digits), []byte(answer)) != 1:
		return triedCode{key: s.mac("code", id), expires: expires, err: portal.ErrSecurityCodeWrong}
	}
	return triedCode{key: s.mac("code", id), expires: expires}
}

// spendCode records in tx that c was tried: a code tried before, here or
// on another instance, answers expired, as one that is.
func (s *core) spendCode(tx Codes, c triedCode) error {
	ok, err := tx.SpendSecurityCode(c.key, c.expires)
	if err == nil && !ok {
		err = portal.ErrSecurityCodeExpired
	}
	return err
}

// refuseCode answers a code whose verdict is not right, and spends a
// wrong one in a transaction of its own: a code is tried once, right or
// wrong.
func (s *core) refuseCode(ctx context.Context, c triedCode) error {
	if errors.Is(c.err, portal.ErrSecurityCodeWrong) {
		if err := s.store.Update(ctx, func(tx Tx) error { return s.spendCode(tx, c) }); err != nil {
			return s.codeOutcome(err)
		}
	}
	return s.codeOutcome(c.err)
}

// codeOutcome counts, for the operators, what became of a code tried, and
// returns err, wrapped if it is not about the code.
func (s *core) codeOutcome(err error) error {
	switch {
	case err == nil:
		s.obs.SecurityCode("right")
	case errors.Is(err, portal.ErrSecurityCodeExpired):
		s.obs.SecurityCode("expired")
		return portal.ErrSecurityCodeExpired
	case errors.Is(err, portal.ErrSecurityCodeWrong):
		s.obs.SecurityCode("wrong")
		return portal.ErrSecurityCodeWrong
	default:
		return fmt.Errorf("security code: %w", err)
	}
	return nil
}

// SecurityCodeAudio implements portal.Portal. The digits come from the
// sealed id; an id that does not open, or whose code has expired, gets
// the same answer as a wrong one: expired. Saying a code does not spend
// it. The sounds are made by a bounded pool, like password hashes.
func (s *Portal) SecurityCodeAudio(ctx context.Context, id, language string) ([]byte, error) {
	if !slices.Contains(captcha.AudioLanguages, language) {
		return nil, portal.InvalidInput(portal.FieldError{Field: portal.FieldLanguage, Reason: portal.ReasonFormat})
	}
	digits, expires, ok := s.openCode(id)
	if !ok || !s.clock.Now().Before(expires) {
		return nil, portal.ErrSecurityCodeExpired
	}
	var sound []byte
	var serr error
	if err := s.sounds.Do(ctx, func() { sound, serr = captcha.WAV(digits, language, nil) }); err != nil {
		if errors.Is(err, pool.ErrBusy) {
			s.log.WarnContext(ctx, "security code sounds busy: request refused")
			return nil, fmt.Errorf("%w: %v", portal.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("security code audio: %w", err)
	}
	if serr != nil {
		return nil, fmt.Errorf("security code audio: %w", serr)
	}
	return sound, nil
}

// The purge of old rate events deletes at most purgeBatch events per
// transaction, so that the writers that count events never wait long
// behind it, and at most purgeBatches transactions per call: a backlog
// goes over several calls.
const (
	purgeBatch   = 1000
	purgeBatches = 100
)

// PurgeRateEvents deletes the rate limits' keys whose events are all
// older than the window that counts them (Config.RateWindow), and the
// spent security codes expired for a code's lifetime (a margin for the
// clocks of other instances), and returns how many rows went. A key's old
// events go when the key is counted again; this reaches the keys never
// counted again (every NUMIC requested once), which would stay for ever.
// The server runs it periodically (backend.Start).
//
// Each transaction deletes up to purgeBatch rows of each table, and the
// next one runs while one took as many (purgeBatches at most).
func (s *Operator) PurgeRateEvents(ctx context.Context) (int, error) {
	now := s.clock.Now()
	total := 0
	for range purgeBatches {
		var n int
		err := s.store.Update(ctx, func(tx Tx) (err error) {
			n, err = tx.PurgeLimits(now.Add(-s.cfg.RateWindow), now.Add(-s.cfg.CodeTTL), purgeBatch)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("purge rate events and spent codes: %w", err)
		}
		if n < purgeBatch {
			break
		}
	}
	return total, nil
}
