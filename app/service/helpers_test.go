package service_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
)

const (
	rightCode = servicetest.Code
	wrongCode = "1234"
)

// env is a service on a real SQLite file with the demo roll.
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *service.Service
	db    *sqlstore.DB
	raw   *sql.DB // a separate connection to the file, as an auditor would use
	path  string
	clock *servicetest.Clock
	logs  *bytes.Buffer
	cfg   service.Config
}

func testConfig() service.Config { return servicetest.Config() } // no request floor: TestRequestFloor checks it

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvCfg(t, func(*service.Config) {})
}

// newEnvCfg is newEnv with the rules edited.
func newEnvCfg(t *testing.T, edit func(*service.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), logs: &bytes.Buffer{}, cfg: testConfig()}
	edit(&e.cfg)
	te := servicetest.New(t, e.cfg, service.Options{Logger: e.logger()})
	e.svc, e.db, e.path, e.clock = te.Service, te.DB, te.Path, te.Clock
	raw, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	e.raw = raw
	return e
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// service returns a service on st sharing the env's clock, secret and logs.
func (e *env) service(st service.Store) *service.Service {
	e.t.Helper()
	svc, err := service.New(st, e.cfg, service.Options{Clock: e.clock, CodeRand: servicetest.Sevens{}, Logger: e.logger(), HashCost: &servicetest.CheapHash})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *env) code() string {
	e.t.Helper()
	c, err := e.svc.Portal.NewSecurityCode(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

var marie = service.DemoRoll[0]

func (e *env) request(numic, email string) error {
	return e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
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
	return e.svc.Portal.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
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

func (e *env) outbox() []servicetest.Message {
	e.t.Helper()
	return servicetest.Outbox(e.t, e.svc, e.db, 1000)
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

// refusalMail returns the text of the newest e-mail that told the voter a
// request of kind ("identifier", "password") was refused, and how many
// such e-mails the outbox holds.
func (e *env) refusalMail(kind string) (string, int) {
	e.t.Helper()
	text, n := "", 0
	for _, m := range e.outbox() { // newest first
		if m.Kind == kind+".refused" {
			if n == 0 {
				text, _ = mailParts(e.t, m.Raw)
			}
			n++
		}
	}
	return text, n
}

// mailTime is how the e-mails write a time.
func mailTime(t time.Time) string { return t.UTC().Format("02/01/2006 15:04 UTC") }
