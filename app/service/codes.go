package service

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"consulvote/app/captcha"
	"consulvote/app/portal"
)

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
