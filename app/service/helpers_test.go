package service_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/store"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sevens is a random source of 7s: every security code is "7777".
type sevens struct{}

func (sevens) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

const (
	rightCode = "7777"
	wrongCode = "1234"
)

var testSecret = bytes.Repeat([]byte("k"), 32)

// env is a service on a real SQLite file with the demo roll.
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *service.Service
	db    *store.DB
	raw   *sql.DB // a separate connection to the file, as an auditor would use
	path  string
	clock *fakeClock
	logs  *bytes.Buffer
	cfg   service.Config
}

func testConfig() service.Config {
	cfg := service.DefaultConfig()
	cfg.Secret = testSecret
	cfg.PublicURL = "https://vote.example"
	cfg.RequestFloor = 0 // TestRequestFloor checks it
	return cfg
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	e := &env{t: t, ctx: context.Background(), db: db, raw: raw, path: path, logs: &bytes.Buffer{}, cfg: testConfig(),
		clock: &fakeClock{t: time.Date(2026, 5, 6, 17, 25, 0, 0, time.UTC)}}
	e.svc = e.service(db)
	if err := e.svc.SeedDemoRoll(e.ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// service returns a service on st sharing the env's clock, secret and logs.
func (e *env) service(st service.Store) *service.Service {
	e.t.Helper()
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := service.New(st, e.cfg, service.Options{Clock: e.clock, CodeRand: sevens{}, Logger: log})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *env) code() string {
	e.t.Helper()
	c, err := e.svc.NewSecurityCode(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

var marie = service.DemoRoll[0]

func (e *env) request(numic, email string) error {
	return e.svc.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
		NUMIC: numic, Email: email, CodeID: e.code(), Code: rightCode})
}

// requestLink asks for a renewal for marie and returns the link mailed.
func (e *env) requestLink() string {
	e.t.Helper()
	if err := e.request(marie.NUMIC, marie.Email); err != nil {
		e.t.Fatalf("request: %v", err)
	}
	return e.lastLink()
}

func (e *env) confirm(link, password string) (portal.Renewal, error) {
	return e.svc.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
		Link: link, Password: password, CodeID: e.code(), Code: rightCode})
}

var linkRE = regexp.MustCompile(`https://vote\.example/renouvellement\?jeton=[A-Za-z0-9_-]{43}`)

// lastLink returns the link in the newest renewal e-mail of the outbox,
// read from the decoded text part as a mail client would show it.
func (e *env) lastLink() string {
	e.t.Helper()
	for _, m := range e.outbox() {
		if m.Kind != "identifier.link" {
			continue
		}
		text, html := mailParts(e.t, m.Raw)
		link := linkRE.FindString(text)
		if link == "" || !strings.Contains(html, `href="`+link+`"`) {
			e.t.Fatalf("no link in both parts of the e-mail:\n%s\n%s", text, html)
		}
		return link
	}
	e.t.Fatal("no renewal e-mail in the outbox")
	return ""
}

func (e *env) outbox() []service.OutboxMessage {
	e.t.Helper()
	ms, err := e.svc.Outbox(e.ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// mailParts returns the decoded text and HTML parts of a message.
func mailParts(t testing.TB, raw []byte) (text, html string) {
	t.Helper()
	text, html, err := mail.Parts(raw)
	if err != nil {
		t.Fatal(err)
	}
	return text, html
}

// count returns the number of rows of table that match where.
func (e *env) count(table, where string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.raw.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+where, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	if _, err := e.raw.ExecContext(e.ctx, query, args...); err != nil {
		e.t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
