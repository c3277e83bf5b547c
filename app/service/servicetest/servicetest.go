// Package servicetest gives tests a real service on a real SQLite file,
// with a clock they move by hand and security codes they can read.
package servicetest

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"consulvote/app/service"
	"consulvote/app/store"
)

// Code is the answer to every security code drawn with Sevens: the test
// types it as a person reading the picture would.
const Code = "7777"

// Clock is a clock the test moves by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now implements service.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sevens is a random source of 7s: as service.Options.CodeRand, it makes
// every security code Code.
type Sevens struct{}

func (Sevens) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

// Config is the default configuration with a fixed secret, a public URL
// of https://vote.example and no request floor.
func Config() service.Config {
	cfg := service.DefaultConfig()
	cfg.Secret = bytes.Repeat([]byte("k"), 32)
	cfg.PublicURL = "https://vote.example"
	cfg.RequestFloor = 0
	return cfg
}

// Start is the time test clocks start at.
var Start = time.Date(2026, 5, 6, 17, 25, 0, 0, time.UTC)

// Env is a seeded service on a temporary database.
type Env struct {
	Service *service.Service
	DB      *store.DB
	Path    string
	Clock   *Clock
}

// New opens a database in t's temporary folder, seeds the demo roll and
// returns the service on it, with opt's logger.
func New(t testing.TB, cfg service.Config, opt service.Options) *Env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := NewClock(Start)
	opt.Clock, opt.CodeRand = clock, Sevens{}
	svc, err := service.New(db, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SeedDemoRoll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &Env{Service: svc, DB: db, Path: path, Clock: clock}
}

// TOTP returns the one-time code of an agent's second factor (its
// base32 secret, from service.Enrollment) at t, as the agent's app would.
func TOTP(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
