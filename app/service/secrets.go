package service

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"

	"consulvote/app/portal"
)

// mac is the keyed SHA-256 (HMAC) under which identifiers, tokens, codes
// and rate-limit keys are stored; purpose separates the uses.
func (s *core) mac(purpose, value string) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

func (s *core) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// token returns a fresh 32-byte secret, base64url-encoded.
func (s *core) token() (string, error) {
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
func (s *core) newCredential() (string, error) {
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

func (s *core) messageID() (string, error) {
	b, err := s.randomBytes(16)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
