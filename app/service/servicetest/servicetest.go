// Package servicetest gives tests a real service on a real SQLite file,
// with a clock they move by hand and security codes they can read.
package servicetest

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"consulvote/app/audit"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/sqlstore"
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

// CheapHash is the argon2id cost New gives a test's service unless told
// otherwise: 64 KiB, one pass. A test about hashing, its time or its
// memory asks for the config's (Options.HashCost); benchmarks always
// measure the config's.
var CheapHash = service.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Start is the time test clocks start at.
var Start = time.Date(2026, 5, 6, 17, 25, 0, 0, time.UTC)

// Env is a seeded service on a temporary database.
type Env struct {
	Service *service.Service
	DB      *sqlstore.DB
	Path    string
	Clock   *Clock
}

// New opens a database in t's temporary folder, seeds the demo roll and
// returns the service on it, with opt's logger.
func New(t testing.TB, cfg service.Config, opt service.Options) *Env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t.Cleanup(func() { checkVocabulary(t, path) }) // before the close
	clock := NewClock(Start)
	opt.Clock, opt.CodeRand = clock, Sevens{}
	if _, bench := t.(*testing.B); opt.HashCost == nil && !bench {
		opt.HashCost = &CheapHash
	}
	svc, err := service.New(db, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Operator.SeedDemoRoll(context.Background()); err != nil {
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

// checkVocabulary fails t if the service recorded, in the database at
// path, an action, actor, message kind, channel or state that is not in
// the portal's vocabulary (app/portal/vocabulary.go): the office screens
// would have no words for it.
func checkVocabulary(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Errorf("vocabulary: %v", err)
		return
	}
	defer db.Close()
	known := map[string]bool{}
	for _, w := range portal.AuditActions {
		known["action "+w] = true
	}
	for _, w := range portal.MessageKinds {
		known["kind "+w] = true
	}
	for _, w := range portal.MessageStates {
		known["state "+w] = true
	}
	for _, w := range portal.Channels {
		known["channel "+w] = true
	}
	for _, w := range portal.Actors {
		known["actor "+w] = true
	}
	for _, q := range []string{
		`SELECT DISTINCT 'action ' || action FROM audit`,
		`SELECT DISTINCT 'actor ' || CASE WHEN actor LIKE 'voter:%' THEN 'voter:' WHEN actor LIKE 'agent:%' THEN 'agent:' ELSE actor END FROM audit`,
		`SELECT DISTINCT 'kind ' || kind FROM outbox`,
		`SELECT DISTINCT 'state ' || state FROM outbox`,
		`SELECT DISTINCT 'channel ' || channel FROM outbox`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Errorf("vocabulary: %v", err)
			return
		}
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				t.Errorf("vocabulary: %v", err)
			}
			if !known[w] && w != "actor voter:" && w != "actor agent:" {
				t.Errorf("the service recorded the %s, which app/portal/vocabulary.go does not list: add it there, and its words to the translations", w)
			}
		}
		rows.Close()
	}
}

// UnsignedRows returns how many audit rows of st no checkpoint signed,
// whatever their age (VerifyAuditLog reports only those older than two
// checkpoint periods), and the number of checkpoints.
func UnsignedRows(t testing.TB, st service.Store) (unsigned, checkpoints int) {
	t.Helper()
	err := st.View(context.Background(), func(tx service.Tx) error {
		unsigned, checkpoints = 0, 0
		if err := tx.AuditRows(func(r audit.Row) error {
			if r.Checkpoint == 0 {
				unsigned++
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.AuditCheckpoints(func(audit.Checkpoint) error { checkpoints++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return unsigned, checkpoints
}

// Message is a queued message opened for reading.
type Message struct {
	ID        int64
	Channel   service.Channel
	Kind      string
	To        string
	Subject   string
	Raw       []byte // the whole message, unsealed; nil once sent
	State     string
	CreatedAt time.Time
}

// Outbox returns the newest limit messages svc queued in st, newest
// first, unsealed as the delivery worker does.
func Outbox(t testing.TB, svc *service.Service, st service.Store, limit int) []Message {
	t.Helper()
	var ms []service.Message
	err := st.View(context.Background(), func(tx service.Tx) error {
		var err error
		ms, err = tx.Messages(service.MessageFilter{Limit: limit})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Message, len(ms))
	for i, m := range ms {
		var raw []byte
		if len(m.Body) > 0 { // a sent message's body is scrubbed
			if raw, err = svc.Operator.OpenMessage(m); err != nil {
				t.Fatalf("outbox message %d: %v", m.ID, err)
			}
		}
		out[i] = Message{ID: m.ID, Channel: m.Channel, Kind: m.Kind, To: m.Recipient,
			Subject: m.Subject, Raw: raw, State: m.State, CreatedAt: m.CreatedAt}
	}
	return out
}
