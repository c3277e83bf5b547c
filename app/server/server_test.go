package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

type testServer struct {
	t    *testing.T
	env  *servicetest.Env
	ts   *httptest.Server
	logs *bytes.Buffer
	raw  *sql.DB
}

func newTestServer(t *testing.T, opt Options) *testServer {
	t.Helper()
	s := &testServer{t: t, logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(s.logs, nil))
	s.env = servicetest.New(t, servicetest.Config(), service.Options{Logger: log})
	opt.Logger = log
	h := New(s.env.Service.Portal, opt)
	s.ts = httptest.NewTLSServer(h)
	t.Cleanup(s.ts.Close)
	raw, err := sql.Open("sqlite", s.env.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	s.raw = raw
	return s
}

func (s *testServer) do(method, path, contentType string, body []byte) (int, api.Error, http.Header) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.ts.URL+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e api.Error
	if resp.StatusCode >= 400 {
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			s.t.Fatalf("%s %s: %d answered %q (%s), want a JSON error", method, path, resp.StatusCode, b, resp.Header.Get("Content-Type"))
		}
	}
	return resp.StatusCode, e, resp.Header
}

func (s *testServer) count(table string) int {
	var n int
	if err := s.raw.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// TestBadInput sends what a hostile or broken client would; each gets a
// 4xx JSON error, the server stays healthy, and nothing is stored.
func TestBadInput(t *testing.T) {
	s := newTestServer(t, Options{PerClient: -1})
	audit := s.count("audit")
	long := strings.Repeat("9", 100_000)
	for _, tc := range []struct {
		name, route, ctype, body string
		status                   int
		code                     portal.Code
	}{
		{"oversized body", api.IdentifierRenewals, "application/json", `{"numic":"` + strings.Repeat("1", 20_000) + `"}`, 413, "body_too_large"},
		{"wrong content type", api.IdentifierRenewals, "text/plain", `{"numic":"00012345"}`, 415, "unsupported_media_type"},
		{"no content type", api.LinkInspect, "", `{"link":"x"}`, 415, "unsupported_media_type"},
		{"form post", api.Sessions, "application/x-www-form-urlencoded", `identifier=a&password=b`, 415, "unsupported_media_type"},
		{"malformed JSON", api.IdentifierRenewals, "application/json", `{"numic": "000`, 400, "malformed_body"},
		{"not an object", api.IdentifierRenewals, "application/json", `["00012345"]`, 400, "malformed_body"},
		{"two objects", api.Sessions, "application/json", `{"identifier":"a","password":"b"}{}`, 400, "malformed_body"},
		{"unknown field", api.IdentifierRenewals, "application/json", `{"numic":"00012345","email":"a@b.fr","code_id":"x","code":"7777","admin":true}`, 400, "malformed_body"},
		{"wrong type", api.IdentifierRenewals, "application/json", `{"numic":12345678}`, 400, "malformed_body"},
		{"invalid UTF-8", api.IdentifierRenewals, "application/json", "{\"numic\":\"0001\xff\xfe345\"}", 400, "malformed_body"},
		{"SQL in NUMIC", api.IdentifierRenewals, "application/json", `{"numic":"1' OR '1'='1","email":"a@example.org","code_id":"x","code":"7777"}`, 400, portal.CodeInvalidInput},
		{"SQL in e-mail", api.IdentifierRenewals, "application/json", `{"numic":"00012345","email":"a@b.c'; DROP TABLE voters;--","code_id":"x","code":"7777"}`, 400, portal.CodeInvalidInput},
		{"very long NUMIC", api.IdentifierRenewals, "application/json", `{"numic":"` + long[:7000] + `","email":"a@example.org","code_id":"x","code":"7777"}`, 400, portal.CodeInvalidInput},
		{"token too short", api.LinkInspect, "application/json", `{"link":"https://vote.example/renouvellement?jeton=abc"}`, 400, portal.CodeLinkInvalid},
		{"token too long", api.LinkInspect, "application/json", `{"link":"` + strings.Repeat("A", 44) + `"}`, 400, portal.CodeLinkInvalid},
		{"confirm with a bad token", api.IdentifierConfirm, "application/json", `{"link":"` + strings.Repeat("A", 42) + `","password":"x","code_id":"x","code":"7777"}`, 400, portal.CodeInvalidInput},
		{"empty login", api.Sessions, "application/json", `{}`, 400, portal.CodeInvalidInput},
		{"unknown route", "/api/v1/voters", "application/json", `{}`, 404, "not_found"},
		{"wrong method", api.Sessions, "", ``, 405, "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodPost
			if tc.name == "wrong method" {
				method = http.MethodGet
			}
			status, e, _ := s.do(method, tc.route, tc.ctype, []byte(tc.body))
			if status != tc.status || e.Error.Code != tc.code {
				t.Fatalf("%d %q, want %d %q", status, e.Error.Code, tc.status, tc.code)
			}
		})
	}
	if status, _, _ := s.do(http.MethodGet, api.Health, "", nil); status != 200 {
		t.Fatalf("healthz: %d after the bad input", status)
	}
	for _, table := range []string{"links", "outbox", "spent_codes", "rate_limits", "sessions"} {
		if n := s.count(table); n != 0 {
			t.Errorf("%d rows in %s after bad input", n, table)
		}
	}
	if n := s.count("voters"); n != len(service.DemoRoll) {
		t.Errorf("%d voters", n)
	}
	if n := s.count("audit"); n != audit {
		t.Errorf("bad input wrote %d audit rows", n-audit)
	}
}

func TestClientRateLimit(t *testing.T) {
	s := newTestServer(t, Options{PerClient: 0.01, Burst: 3})
	for i := range 3 {
		if status, _, _ := s.do(http.MethodPost, api.LinkInspect, "application/json", []byte(`{"link":"x"}`)); status != 400 {
			t.Fatalf("request %d: %d", i+1, status)
		}
	}
	status, e, h := s.do(http.MethodPost, api.LinkInspect, "application/json", []byte(`{"link":"x"}`))
	if status != 429 || e.Error.Code != portal.CodeRateLimited || h.Get("Retry-After") == "" || e.Error.Until == nil {
		t.Fatalf("4th request: %d %q Retry-After %q", status, e.Error.Code, h.Get("Retry-After"))
	}
	if status, _, _ := s.do(http.MethodGet, api.Health, "", nil); status != 200 {
		t.Fatal("health checks are rate limited")
	}
}

// TestLinkOpenedInBrowser: the link's own URL answers a page and consumes
// nothing.
func TestLinkOpenedInBrowser(t *testing.T) {
	s := newTestServer(t, Options{PerClient: -1})
	ctx := context.Background()
	svc := s.env.Service
	c, _ := svc.Portal.NewSecurityCode(ctx)
	if err := svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: service.DemoRoll[0].NUMIC,
		Email: service.DemoRoll[0].Email, CodeID: c.ID, Code: servicetest.Code}); err != nil {
		t.Fatal(err)
	}
	ms, _ := svc.Portal.Messages(ctx, 1)
	token := ms[0].Text[strings.Index(ms[0].Text, "jeton=")+6:][:43]
	for range 3 { // a scanner, a preview, the voter
		resp, err := s.ts.Client().Get(s.ts.URL + portal.LinkPath + "?jeton=" + token)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "J'ai reçu le courriel de renouvellement") {
			t.Fatalf("page: %d\n%s", resp.StatusCode, b)
		}
		// The button hands the link to the app; the token is nowhere else.
		button := `<a href="` + portal.AppLinkURL(token) + `" style=`
		if !strings.Contains(string(b), button) || !strings.Contains(string(b), ">Ouvrir dans l'application</a>") ||
			strings.Count(string(b), token) != 2 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("no button %s, or the token elsewhere, or cacheable (%q):\n%s", button, resp.Header.Get("Cache-Control"), b)
		}
	}
	if st, _ := svc.Portal.InspectLink(ctx, token); st.State != portal.LinkValid {
		t.Fatalf("after the browser: %v", st.State)
	}
	// A mangled link gets the page, without a button to hand it over.
	resp, err := s.ts.Client().Get(s.ts.URL + portal.LinkPath + "?jeton=" + token[:20] + "%22%3E")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(b), portal.AppScheme+":") || strings.Contains(string(b), token[:20]) {
		t.Fatalf("page for a mangled link: %d\n%s", resp.StatusCode, b)
	}
	if strings.Contains(s.logs.String(), token) {
		t.Fatal("the token is in the logs")
	}
}

// TestThroughRemoteClient runs the whole renewal through the real client
// and checks the logs: one line per request, no secret.
func TestThroughRemoteClient(t *testing.T) {
	s := newTestServer(t, Options{PerClient: -1})
	ctx := context.Background()
	c, err := remote.New(s.ts.URL, remote.Options{TLS: s.ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	marie := service.DemoRoll[0]
	code := func() string { sc, _ := c.NewSecurityCode(ctx); return sc.ID }
	if err := c.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: marie.NUMIC, Email: marie.Email, CodeID: code(), Code: servicetest.Code}); err != nil {
		t.Fatal(err)
	}
	ms, _ := s.env.Service.Portal.Messages(ctx, 1)
	link := ms[0].Text[strings.Index(ms[0].Text, "https://"):]
	link = link[:strings.IndexAny(link, " \r\n")]
	if st, err := c.InspectLink(ctx, link); err != nil || st.State != portal.LinkValid || st.ExpiresAt.IsZero() {
		t.Fatalf("inspect: %+v, %v", st, err)
	}
	_, err = c.ConfirmIdentifierRenewal(ctx, portal.ConfirmRequest{Link: link, Password: "wrong", CodeID: code(), Code: servicetest.Code})
	if portal.ErrorCode(err) != portal.CodeWrongPasswordOrCode {
		t.Fatalf("wrong password: %v", err)
	}
	r, err := c.ConfirmIdentifierRenewal(ctx, portal.ConfirmRequest{Link: link, Password: marie.Password, CodeID: code(), Code: servicetest.Code})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.Login(ctx, r.Identifier, marie.Password)
	if err != nil || sess.NUMICMasked != "••••2345" {
		t.Fatalf("login: %+v, %v", sess, err)
	}
	if err := c.Logout(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	// Refused ("not both at once"), but answered like any request: the
	// voter learns of it by e-mail.
	if err := c.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{Identifier: r.Identifier, NUMIC: marie.NUMIC, CodeID: code(), Code: servicetest.Code}); err != nil {
		t.Fatalf("password right after the identifier: %v", err)
	}
	if n := s.count("outbox WHERE kind = 'password.refused'"); n != 1 {
		t.Fatalf("password right after the identifier: %d refusal e-mails", n)
	}
	_, err = c.ConfirmIdentifierRenewal(ctx, portal.ConfirmRequest{Link: link, Password: marie.Password, CodeID: code(), Code: servicetest.Code})
	if portal.ErrorCode(err) != portal.CodeLinkUsed {
		t.Fatalf("second confirm: %v", err)
	}

	logs := s.logs.String()
	for name, secret := range map[string]string{"identifier": r.Identifier, "password": marie.Password, "link": link[len(link)-43:], "session": sess.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s is in the logs", name)
		}
	}
	lines := 0
	for line := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(line, `"msg":"request"`) {
			lines++
			if !strings.Contains(line, `"route":"POST /api/v1/`) && !strings.Contains(line, `"route":"DELETE /api/v1/`) {
				t.Errorf("request line without its route: %s", line)
			}
		}
	}
	if lines < 10 {
		t.Errorf("%d request lines logged for 11 requests", lines)
	}
}
