package service

import (
	"context"
	"crypto/hmac"
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

// NewSecurityCode implements portal.Portal.
func (s *Service) NewSecurityCode(ctx context.Context) (portal.SecurityCode, error) {
	digits, err := captcha.Digits(s.codes, portal.SecurityCodeLen)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	png, err := captcha.PNG(digits)
	if err != nil {
		return portal.SecurityCode{}, err
	}
	now := s.clock.Now()
	expires := now.Add(s.cfg.CodeTTL)
	// The id carries the digits and the expiry, sealed under the
	// service's key, so that any instance can say the code without
	// storing it in clear (see SecurityCodeAudio).
	plain := binary.BigEndian.AppendUint64([]byte(digits), uint64(expires.Unix()))
	sealed, err := s.codeBox.Seal(plain, []byte(codeSealAD))
	if err != nil {
		return portal.SecurityCode{}, err
	}
	id := base64.RawURLEncoding.EncodeToString(sealed)
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.PurgeSecurityCodes(now); err != nil {
			return err
		}
		return tx.InsertSecurityCode(id, s.mac("code", id+":"+digits), expires)
	})
	if err != nil {
		return portal.SecurityCode{}, fmt.Errorf("new security code: %w", err)
	}
	s.obs.SecurityCode("drawn")
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
		s.obs.SecurityCode("expired")
		return portal.ErrSecurityCodeExpired
	case err != nil:
		return fmt.Errorf("security code: %w", err)
	case !s.clock.Now().Before(expires):
		s.obs.SecurityCode("expired")
		return portal.ErrSecurityCodeExpired
	case !hmac.Equal(hash, s.mac("code", id+":"+answer)):
		s.obs.SecurityCode("wrong")
		return portal.ErrSecurityCodeWrong
	}
	s.obs.SecurityCode("right")
	return nil
}

// SecurityCodeAudio implements portal.Portal. The digits come from the
// sealed id; an id that does not open, or whose code has expired, gets
// the same answer as a wrong one: expired. Saying a code does not spend
// it. The sounds are made by a bounded pool, like password hashes.
func (s *Service) SecurityCodeAudio(ctx context.Context, id, language string) ([]byte, error) {
	if !slices.Contains(captcha.AudioLanguages, language) {
		return nil, portal.InvalidInput(portal.FieldError{Field: portal.FieldLanguage, Reason: portal.ReasonFormat})
	}
	sealed, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(id) > portal.MaxFieldLen {
		return nil, portal.ErrSecurityCodeExpired
	}
	plain, err := s.codeBox.Open(sealed, []byte(codeSealAD))
	if err != nil || len(plain) != portal.SecurityCodeLen+8 {
		return nil, portal.ErrSecurityCodeExpired
	}
	digits := string(plain[:portal.SecurityCodeLen])
	expires := time.Unix(int64(binary.BigEndian.Uint64(plain[portal.SecurityCodeLen:])), 0)
	if !s.clock.Now().Before(expires) {
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

// PurgeRateEvents deletes the rate events older than the window that
// counts them (Config.RateWindow), and returns how many. A key's old
// events go when the key is counted again; this reaches the keys never
// counted again (every NUMIC requested once), which would stay for ever.
// The server runs it periodically (backend.Start).
func (s *Service) PurgeRateEvents(ctx context.Context) (int, error) {
	before := s.clock.Now().Add(-s.cfg.RateWindow)
	total := 0
	for range purgeBatches {
		var n int
		err := s.store.Update(ctx, func(tx Tx) (err error) {
			n, err = tx.PurgeRateEvents(before, purgeBatch)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("purge rate events: %w", err)
		}
		if n < purgeBatch {
			break
		}
	}
	return total, nil
}
