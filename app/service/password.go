package service

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"consulvote/app/pool"
	"consulvote/app/portal"
)

const (
	saltLen = 16
	keyLen  = 32
)

// hashPassword returns the argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$key), so that a hash carries its
// own parameters and old hashes stay checkable when the config changes.
func hashPassword(password string, p Argon2Params, random io.Reader) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	return phc(p, salt, argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)), nil
}

// unmatchedHash is a hash with p's parameters of no known password (its
// key is random): checking a password against it costs what checking one
// against a voter's does, without an argon2id run, and its 19 MiB, to make it.
func unmatchedHash(p Argon2Params, random io.Reader) (string, error) {
	b := make([]byte, saltLen+keyLen)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("dummy hash: %w", err)
	}
	return phc(p, b[:saltLen], b[saltLen:]), nil
}

func phc(p Argon2Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches a hash made by
// hashPassword. A malformed hash never matches.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false
	}
	// Refuse absurd parameters from a corrupted row rather than allocate them.
	if p.MemoryKiB == 0 || p.MemoryKiB > 4<<20 || p.Time == 0 || p.Time > 64 || p.Threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// checkPassword checks password against hash on one of the service's
// hashing workers. When they and their queue are full it answers
// portal.ErrUnavailable at once, without hashing.
func (s *core) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	var ok bool
	queued := time.Now()
	if err := s.hashes.Do(ctx, func() { s.obs.HashWaited(time.Since(queued)); ok = checkPassword(hash, password) }); err != nil {
		return false, s.hashRefused(ctx, err)
	}
	return ok, nil
}

// hashPassword hashes a new password on one of the hashing workers, or
// answers portal.ErrUnavailable at once when they are all taken.
func (s *core) hashPassword(ctx context.Context, password string) (string, error) {
	var hash string
	var herr error
	queued := time.Now()
	if err := s.hashes.Do(ctx, func() {
		s.obs.HashWaited(time.Since(queued))
		hash, herr = hashPassword(password, s.cfg.Argon2, s.rand)
	}); err != nil {
		return "", s.hashRefused(ctx, err)
	}
	return hash, herr
}

func (s *core) hashRefused(ctx context.Context, err error) error {
	if errors.Is(err, pool.ErrBusy) {
		s.log.WarnContext(ctx, "password hashing busy: request refused")
		return fmt.Errorf("%w: %v", portal.ErrUnavailable, err)
	}
	return fmt.Errorf("password hashing: %w", err)
}

// HashStats returns how many password hashes ran and how many were refused
// because the hashing workers and their queue were full.
func (s *Operator) HashStats() pool.Stats { return s.hashes.Stats() }
