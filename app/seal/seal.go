// Package seal keeps queued messages unreadable in the database: a renewal
// e-mail carries a single-use link and an SMS a password, and the store must
// never hold a secret in clear. It is AES-256-GCM with a random nonce.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the size of the key given to New.
const KeySize = 32

// Box seals and opens messages with one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box whose key is derived from secret and purpose, so that
// one server secret can serve several uses without sharing keys.
func New(secret []byte, purpose string) (*Box, error) {
	if len(secret) < KeySize {
		return nil, fmt.Errorf("seal: secret is %d bytes, want at least %d", len(secret), KeySize)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("consulvote seal " + purpose))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain; ad is authenticated but not encrypted (bind the
// ciphertext to the row it belongs to).
func (b *Box) Seal(plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plain, ad), nil
}

// ErrOpen is returned for a sealed message that was altered, sealed with
// another key or bound to other data.
var ErrOpen = errors.New("seal: message altered or sealed with another key")

// Open decrypts what Seal returned.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
