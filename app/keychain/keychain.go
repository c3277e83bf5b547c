// Package keychain keeps a voter's identifier in the operating system's
// keychain (Secret Service on Linux, Keychain on macOS, Credential Manager
// on Windows) through github.com/zalando/go-keyring.
package keychain

import (
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// ErrUnavailable means there is no keychain to talk to (no Secret Service
// running, a locked or refused keychain).
var ErrUnavailable = errors.New("keychain: no keychain available")

// ErrNotFound means nothing is saved under that name.
var ErrNotFound = errors.New("keychain: nothing saved")

// Keychain saves secrets under one service name (the app ID).
type Keychain struct {
	Service string
}

// Save stores secret for user, replacing what was there.
func (k Keychain) Save(user, secret string) error {
	if err := keyring.Set(k.Service, user, secret); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Load returns the secret saved for user.
func (k Keychain) Load(user string) (string, error) {
	s, err := keyring.Get(k.Service, user)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return "", ErrNotFound
	case err != nil:
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return s, nil
}

// Delete forgets what is saved for user.
func (k Keychain) Delete(user string) error {
	err := keyring.Delete(k.Service, user)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}
