package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/service"
)

// raw sends a request and returns the status and the body as sent.
func (o *officeServer) raw(method, path, token string, body string) (int, string) {
	o.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, o.ts.URL+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := o.ts.Client().Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOfficeScopeThroughAPI: an agent of the Royaume-Uni asks, on every
// office route, for marie (Allemagne) and for a voter, change or message
// that does not exist: the two answers are the same, byte for byte; the
// agent of Allemagne gets marie, and the central office everyone. The
// roll and the campaigns are the central office's.
func TestOfficeScopeThroughAPI(t *testing.T) {
	o := newOfficeServer(t) // alice (admin) and bob: central
	ctx := context.Background()
	svc := o.env.Service
	for _, a := range []struct {
		name  string
		role  portal.Role
		scope portal.Scope
	}{
		{"de", portal.RoleAgent, portal.Scope{Circonscriptions: []string{"Allemagne", "Autriche"}}},
		{"uk", portal.RoleAgent, portal.Scope{Circonscriptions: []string{"Royaume-Uni"}}},
		{"ukadmin", portal.RoleAdmin, portal.Scope{Circonscriptions: []string{"royaume-uni"}}},
		{"deadmin", portal.RoleAdmin, portal.Scope{Circonscriptions: []string{"Allemagne"}}},
	} {
		enr, err := svc.Operator.AddAgent(ctx, a.name, a.role, "correct horse battery", a.role == portal.RoleAdmin, a.scope)
		if err != nil {
			t.Fatal(err)
		}
		o.secrets[a.name] = enr.Secret
	}
	if _, err := svc.Operator.AddAgent(ctx, "nobody", portal.RoleAgent, "correct horse battery", false, portal.Scope{}); err == nil {
		t.Error("an agent added with no scope")
	}
	de, uk, ukAdmin, deAdmin, central := o.login("de"), o.login("uk"), o.login("ukadmin"), o.login("deadmin"), o.login("alice")
	marie := service.DemoRoll[0] // Allemagne, voter 1
	const none = "999999"
	id := func(route, id string) string { return strings.Replace(route, "{id}", id, 1) }
	// same: the out-of-scope request and the one about nothing answer
	// alike; then the agent in scope gets want.
	same := func(name, method, route, foreign, absent, body string, wantStatus int) {
		t.Helper()
		s1, b1 := o.raw(method, id(route, foreign), uk, body)
		s2, b2 := o.raw(method, id(route, absent), uk, body)
		if s1 != s2 || b1 != b2 {
			t.Errorf("%s: another circonscription's voter: %d %s; none: %d %s", name, s1, b1, s2, b2)
		}
		if s, b := o.raw(method, id(route, foreign), de, body); s != wantStatus {
			t.Errorf("%s: the circonscription's agent: %d %s, want %d", name, s, b, wantStatus)
		}
	}
	// The session says the scope, for the screens.
	status, out := o.call("POST", api.AgentSessions, "", map[string]string{"name": "uk", "password": "correct horse battery"})
	if sc, _ := out["scope"].(map[string]any); status != 201 || sc == nil || sc["central"] != nil || len(sc["circonscriptions"].([]any)) != 1 {
		t.Errorf("uk's session: %d %v", status, out)
	}

	if s, b := o.raw("POST", api.AgentVoterSearch, uk, `{"query":"`+marie.NUMIC+`"}`); s != 200 || b != "[]\n" {
		t.Errorf("uk searches marie: %d %s", s, b)
	}
	if s1, b1 := o.raw("POST", api.AgentVoterSearch, uk, `{"query":"`+marie.Email+`"}`); s1 != 200 || b1 != "[]\n" {
		t.Errorf("uk searches marie's e-mail: %d %s", s1, b1)
	}
	for _, tok := range []string{de, central} {
		if s, b := o.raw("POST", api.AgentVoterSearch, tok, `{"query":"`+marie.NUMIC+`"}`); s != 200 || !strings.Contains(b, marie.NUMIC) {
			t.Errorf("search in scope: %d %s", s, b)
		}
	}
	same("voter file", "GET", api.AgentVoter, "1", none, "", 200)
	for range 5 {
		svc.Portal.Login(ctx, marie.Identifier, "wrong")
	}
	same("unlock", "POST", api.AgentUnlock, "1", none, `{"reason":"appel, identité vérifiée"}`, 200)
	same("renewal", "POST", api.AgentRenewals, "1", none, `{"kind":"identifier","reason":"appel, identité vérifiée"}`, 200)
	same("cancel links", "POST", api.AgentCancelLinks, "1", none, `{"reason":"courriel compromis"}`, 200)
	same("propose a change", "POST", api.AgentProposeChange, "1", none,
		`{"email":"marie.nouvelle@example.org","document":"passport","reason":"au guichet"}`, 200)

	// The change de proposed: not in uk's list; out of reach as one that
	// does not exist, for uk's agent and admin alike.
	if s, b := o.raw("GET", api.AgentChanges, uk, ""); s != 200 || strings.Contains(b, "marie") {
		t.Errorf("uk's pending changes: %d %s", s, b)
	}
	if s, b := o.raw("GET", api.AgentChanges, de, ""); s != 200 || !strings.Contains(b, "marie.nouvelle@example.org") {
		t.Errorf("de's pending changes: %d %s", s, b)
	}
	pending, err := svc.Office.PendingContactChanges(ctx, de)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending: %v %v", pending, err)
	}
	change := pending[0].ID
	for _, tok := range []string{uk, ukAdmin} {
		for _, r := range []struct{ route, body string }{{api.AgentApproveChange, `{}`}, {api.AgentRejectChange, `{"reason":"non"}`}} {
			s1, b1 := o.raw("POST", id(r.route, strconv.FormatInt(change, 10)), tok, r.body)
			s2, b2 := o.raw("POST", id(r.route, none), tok, r.body)
			if s1 != 404 || s1 != s2 || b1 != b2 {
				t.Errorf("%s of another circonscription's change: %d %s; of none: %d %s", r.route, s1, b1, s2, b2)
			}
		}
	}
	if s, b := o.raw("POST", id(api.AgentApproveChange, strconv.FormatInt(change, 10)), deAdmin, `{}`); s != 200 {
		t.Errorf("de's admin approves: %d %s", s, b)
	}

	// Marie's message, failed: in de's outbox, not in uk's; retried by
	// de, not by uk.
	if err := o.env.DB.MarkAttempt(ctx, 1, "relay down", o.env.Clock.Now(), true); err != nil {
		t.Fatal(err)
	}
	if s, b := o.raw("GET", api.AgentOutbox, uk, ""); s != 200 || strings.Contains(b, "relay down") {
		t.Errorf("uk's outbox: %d %s", s, b)
	}
	if s, b := o.raw("GET", api.AgentOutbox, de, ""); s != 200 || !strings.Contains(b, "relay down") {
		t.Errorf("de's outbox: %d %s", s, b)
	}
	same("retry", "POST", api.AgentRetry, "1", none, `{"reason":"relais rétabli"}`, 200)

	// The audit view: uk's admin finds nothing of marie, as of a NUMIC
	// that is no voter's, nor any of de's actions (all about marie).
	s1, b1 := o.raw("POST", api.AgentAuditSearch, ukAdmin, `{"numic":"`+marie.NUMIC+`"}`)
	s2, b2 := o.raw("POST", api.AgentAuditSearch, ukAdmin, `{"numic":"99999999"}`)
	if s1 != 200 || s1 != s2 || b1 != b2 {
		t.Errorf("audit search for marie: %d %s; for none: %d %s", s1, b1, s2, b2)
	}
	if s, b := o.raw("POST", api.AgentAuditSearch, ukAdmin, `{"actor":"agent:de"}`); s != 200 || strings.Contains(b, "agent:de") {
		t.Errorf("uk's admin reads de's actions: %d %s", s, b)
	}
	for _, tok := range []string{deAdmin, central} {
		if s, b := o.raw("POST", api.AgentAuditSearch, tok, `{"numic":"`+marie.NUMIC+`"}`); s != 200 || !strings.Contains(b, "voter.unlocked") {
			t.Errorf("audit search in scope: %d %s", s, b)
		}
	}

	// The roll and the campaigns cover every circonscription: the central
	// office's only.
	if _, err := svc.Office.ImportRollAs(ctx, deAdmin, strings.NewReader(""), nil); !errors.Is(err, portal.ErrForbidden) {
		t.Errorf("de's admin imports the roll: %v", err)
	}
	if _, err := svc.Office.SendFirstCredentialsAs(ctx, deAdmin, "mai", nil); !errors.Is(err, portal.ErrForbidden) {
		t.Errorf("de's admin sends a campaign: %v", err)
	}
}
