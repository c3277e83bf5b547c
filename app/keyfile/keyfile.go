// Package keyfile keeps the secret key that the service uses for its keyed
// hashes and sealed outbox, in a file beside the database and never in it:
// a stolen database alone then reveals no link and allows no offline
// guessing of identifiers.
package keyfile

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Size is the length of a key.
const Size = 32

// LoadOrCreate returns the key stored at path, creating it (mode 0600) on
// first use. A key file readable by others (left by an older version or a
// careless copy) is narrowed to 0600. A file of the wrong size is an error, not replaced: replacing
// it would silently invalidate every stored hash.
func LoadOrCreate(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != Size {
			return nil, fmt.Errorf("key file %s: %d bytes, want %d", path, len(key), Size)
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, fmt.Errorf("key file: make private: %w", err)
			}
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file: %w", err)
	}
	key = make([]byte, Size)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	// O_EXCL: if two processes start at once, one creates and the other
	// reads what it wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreate(path)
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	return key, nil
}

// Fingerprint names a key without revealing it: an HMAC of a fixed text.
// A database shared by several processes keeps it to refuse a process
// started with another key.
func Fingerprint(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("consulvote key fingerprint v1"))
	return m.Sum(nil)
}
