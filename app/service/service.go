// Package service applies the rules of the portal, once, for both the
// app's local mode and the server, on top of a Store. New returns them by
// audience, over one core: the voter's Portal (portal.Portal), the
// agents' Office (portal.Office, portal.RollAdmin) and the Operator's
// commands and background work. One file per
// concern: security codes (codes.go), the renewal requests' shared
// skeleton (renewal.go), identifier renewal (identifier.go), password
// renewal (password_renewal.go), links (links.go), failures and locks
// (failures.go), login (login.go), the outbox (outbox.go), the audit
// chain (audit.go), the office's agents and desk (agents.go, desk.go),
// the roll (roll.go) and first-credentials campaigns (campaign.go). The
// store is reached through small role interfaces (roles.go).
package service

import (
	"crypto/rand"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"consulvote/app/pool"
	"consulvote/app/portal"
	"consulvote/app/seal"

	"golang.org/x/time/rate"
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
	// Observer is told the service's decisions and timings, for metrics
	// (default: nobody).
	Observer Observer
	// ReleaseHashMemory returns the 19 MiB of each password hash to the
	// system after it (the app: it hashes rarely, and should stay small).
	// A server keeps it for the next hash.
	ReleaseHashMemory bool
	// HashCost, when set, replaces the config's argon2id cost (which
	// Validate holds at OWASP's minimum) for new hashes. Only tests set it:
	// those not about hashing hash with a cheap one (servicetest.New).
	HashCost *Argon2Params
}

// Service is the rules over one store, by audience: each of its parts is
// a type of its own over one core (the store, the rules, the clock, the
// keys and the process's state), so that a caller sees only its calls.
type Service struct {
	// Portal is the voter's: security codes, renewals, login.
	Portal *Portal
	// Office is the agents' calls, each on a session token.
	Office *Office
	// Operator is the server's own work and the operator's commands: the
	// roll and campaigns as a named actor, agents, the audit log, the
	// delivery worker's and the metrics' reads.
	Operator *Operator
}

// Portal implements portal.Portal, and portal.Outbox for the
// demonstration.
type Portal struct{ *core }

// Office implements portal.Office and portal.RollAdmin.
type Office struct{ *core }

// Operator is what the server process and its commands call, never a
// voter nor an agent's session.
type Operator struct{ *core }

// core is what every audience shares.
type core struct {
	store Store
	cfg   Config
	numic *regexp.Regexp
	box   *seal.Box
	clock Clock
	rand  io.Reader
	codes io.Reader
	log   *slog.Logger
	obs   Observer
	// totpBox seals the agents' TOTP secrets in the database.
	totpBox *seal.Box
	// dummyHash is checked when a login names no voter, so that an
	// unknown identifier costs the same argon2id time as a wrong password.
	dummyHash func() (string, error)
	// hashes bounds the argon2id work of every caller (see Config.HashWorkers).
	hashes *pool.Pool
	// audited: this service appended to the audit log (Audited).
	audited atomic.Bool
	// sounds bounds the making of spoken security codes.
	sounds *pool.Pool
	// codeBox seals the digits and expiry of a security code into its id.
	codeBox *seal.Box
	// unmatched limits the renewal requests that match no voter, over all
	// sources (Config.UnmatchedRequests).
	unmatched *rate.Limiter
}

var (
	_ portal.Portal    = (*Portal)(nil)
	_ portal.Outbox    = (*Portal)(nil)
	_ portal.Office    = (*Office)(nil)
	_ portal.RollAdmin = (*Office)(nil)
)

// New returns a service on st with the rules of cfg.
func New(st Store, cfg Config, opt Options) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.HashCost != nil {
		cfg.Argon2 = *opt.HashCost
	}
	s := &core{
		store: st,
		cfg:   cfg,
		numic: regexp.MustCompile(cfg.NUMICPattern),
		clock: opt.Clock,
		rand:  opt.Rand,
		codes: opt.CodeRand,
		log:   opt.Logger,
		obs:   opt.Observer,
		unmatched: rate.NewLimiter(rate.Limit(float64(cfg.UnmatchedRequests)/cfg.RateWindow.Seconds()),
			cfg.UnmatchedRequests),
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
	if s.obs == nil {
		s.obs = nopObserver{}
	} else {
		s.store = observedStore{Store: st, obs: s.obs}
	}
	if err := s.boxes(); err != nil {
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
	if opt.ReleaseHashMemory {
		s.hashes.After(debug.FreeOSMemory)
	}
	s.sounds = pool.New(workers, 4*workers)
	s.dummyHash = sync.OnceValues(func() (string, error) { return unmatchedHash(cfg.Argon2, s.rand) })
	return &Service{Portal: &Portal{s}, Office: &Office{s}, Operator: &Operator{s}}, nil
}

// boxes makes the sealing keys, each derived from the secret for one use.
func (s *core) boxes() (err error) {
	if s.box, err = seal.New(s.cfg.Secret, "outbox"); err != nil {
		return err
	}
	if s.totpBox, err = seal.New(s.cfg.Secret, "agent-totp"); err != nil {
		return err
	}
	s.codeBox, err = seal.New(s.cfg.Secret, "security-code")
	return err
}
