package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/loadtest"
)

// TestRenewalAnswersTellNothing: an identifier request whose NUMIC and
// e-mail match a voter refused for "not both at once", the same NUMIC
// with a wrong e-mail, an unknown NUMIC, a NUMIC over its rate limit and
// a source over its limit of requests that match nobody all get the same
// status and body; so do password requests for a locked
// voter, a wrong NUMIC and an unknown identifier.
func TestRenewalAnswersTellNothing(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	h := New(e.Service.Portal, Options{PerClient: -1})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	marie, john := service.DemoRoll[0], service.DemoRoll[1]
	post := func(path string, req func(code string) any) string {
		t.Helper()
		c, err := e.Service.Portal.NewSecurityCode(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(ts.URL+path, api.ContentType, bytes.NewReader(loadtest.Body(req(c.ID))))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + resp.Header.Get("Retry-After") + " " + string(b)
	}
	identifier := func(numic, email string) func(string) any {
		return func(code string) any {
			return api.IdentifierRenewalRequest{NUMIC: numic, Email: email, CodeID: code, Code: servicetest.Code}
		}
	}
	password := func(id, numic string) func(string) any {
		return func(code string) any {
			return api.PasswordRenewalRequest{Identifier: id, NUMIC: numic, CodeID: code, Code: servicetest.Code}
		}
	}
	// Marie renews her password: her identifier is then refused for 24 h.
	if err := e.Service.Portal.RequestPasswordRenewal(context.Background(), portal.PasswordRenewalRequest{
		Identifier: marie.Identifier, NUMIC: marie.NUMIC, CodeID: mustCode(t, e), Code: servicetest.Code}); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{
		"conflict, matching pair": post(api.IdentifierRenewals, identifier(marie.NUMIC, marie.Email)),
		"wrong e-mail":            post(api.IdentifierRenewals, identifier(marie.NUMIC, "autre@example.org")),
		"unknown NUMIC":           post(api.IdentifierRenewals, identifier("99999999", marie.Email)),
	}
	for range 3 {
		post(api.IdentifierRenewals, identifier(john.NUMIC, john.Email))
	}
	answers["rate limited, matching pair"] = post(api.IdentifierRenewals, identifier(john.NUMIC, john.Email))
	// Requests that match nobody are limited per source, not per NUMIC.
	for range service.DefaultConfig().SourceRequests {
		post(api.IdentifierRenewals, identifier(marie.NUMIC, "encore@example.org"))
	}
	answers["wrong e-mail, over the source's limit"] = post(api.IdentifierRenewals, identifier(marie.NUMIC, "encore@example.org"))
	// John locked by five wrong NUMICs with his identifier.
	for i := range 5 {
		post(api.PasswordRenewals, password(john.Identifier, "8888888"+string(rune('0'+i))))
	}
	e.Clock.Advance(time.Minute)
	answers["password, locked voter"] = post(api.PasswordRenewals, password(john.Identifier, john.NUMIC))
	answers["password, wrong NUMIC"] = post(api.PasswordRenewals, password(service.DemoRoll[2].Identifier, "77777777"))
	answers["password, unknown identifier"] = post(api.PasswordRenewals, password("Inconnu12345", john.NUMIC))
	want := answers["unknown NUMIC"]
	for k, got := range answers {
		if got != want {
			t.Errorf("%s answered %q, an unknown NUMIC %q", k, got, want)
		}
	}
	// The refusals reached the matching voters by e-mail, with no link.
	ms := servicetest.Outbox(t, e.Service, e.DB, 100)
	refused := map[string]int{}
	for _, m := range ms {
		if m.Kind == "identifier.refused" || m.Kind == "password.refused" {
			refused[m.To]++
			if bytes.Contains(m.Raw, []byte("jeton=")) {
				t.Errorf("a refusal e-mail carries a link")
			}
		}
	}
	if refused[marie.Email] != 1 || refused[john.Email] != 2 || len(refused) != 2 {
		t.Errorf("refusal e-mails by recipient %v: want 1 to marie (conflict), 2 to john (rate limit, lock)", refused)
	}
}

func mustCode(t *testing.T, e *servicetest.Env) string {
	t.Helper()
	c, err := e.Service.Portal.NewSecurityCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
