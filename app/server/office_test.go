package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

type officeServer struct {
	t   *testing.T
	env *servicetest.Env
	ts  *httptest.Server
	// secrets are the agents' TOTP secrets (alice, the admin, has one).
	secrets map[string]string
}

func newOfficeServer(t *testing.T) *officeServer {
	t.Helper()
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	secrets := map[string]string{}
	for name, role := range map[string]portal.Role{"alice": portal.RoleAdmin, "bob": portal.RoleAgent} {
		enr, err := e.Service.Operator.AddAgent(context.Background(), name, role, "correct horse battery", role == portal.RoleAdmin, portal.Scope{Central: true})
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = enr.Secret
	}
	h := New(e.Service.Portal, Options{PerClient: -1, Office: e.Service.Office})
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	return &officeServer{t: t, env: e, ts: ts, secrets: secrets}
}

// call sends a request with a bearer token and returns the status and the
// decoded body.
func (o *officeServer) call(method, path, token string, body any) (int, map[string]any) {
	o.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, o.ts.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := o.ts.Client().Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (o *officeServer) login(name string) string {
	o.t.Helper()
	body := map[string]string{"name": name, "password": "correct horse battery"}
	if s := o.secrets[name]; s != "" {
		o.env.Clock.Advance(30 * time.Second) // a code serves once: the next step's
		body["code"] = servicetest.TOTP(o.t, s, o.env.Clock.Now())
	}
	status, out := o.call("POST", api.AgentSessions, "", body)
	if status != 201 {
		o.t.Fatalf("login %s: %d %v", name, status, out)
	}
	return out["token"].(string)
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// TestSessionPermissionsThroughAPI: the login's answer says what the agent
// may do (here with the default setting: only an admin approves a change
// of contact details), in stable JSON names.
func TestSessionPermissionsThroughAPI(t *testing.T) {
	o := newOfficeServer(t)
	for name, want := range map[string]map[string]any{
		"bob":   {"approve_contact_changes": false, "manage_roll": false, "audit": false},
		"alice": {"approve_contact_changes": true, "manage_roll": true, "audit": true},
	} {
		body := map[string]string{"name": name, "password": "correct horse battery"}
		if s := o.secrets[name]; s != "" {
			o.env.Clock.Advance(30 * time.Second)
			body["code"] = servicetest.TOTP(t, s, o.env.Clock.Now())
		}
		status, out := o.call("POST", api.AgentSessions, "", body)
		if got := fmt.Sprint(out["may"]); status != 201 || got != fmt.Sprint(want) {
			t.Errorf("%s: %d, may %s; want %v", name, status, got, want)
		}
	}
}

// TestOfficeRolesThroughAPI: roles and sessions are enforced by the
// service, seen through the API.
func TestOfficeRolesThroughAPI(t *testing.T) {
	o := newOfficeServer(t)
	admin, agent := o.login("alice"), o.login("bob")
	marie := service.DemoRoll[0]
	ctx := context.Background()
	voterSess, err := o.env.Service.Portal.Login(ctx, marie.Identifier, marie.Password)
	if err != nil {
		t.Fatal(err)
	}

	// An agent cannot do an admin action; the admin can.
	if status, out := o.call("POST", api.AgentAuditVerify, agent, struct{}{}); status != 403 || errCode(out) != "forbidden" {
		t.Fatalf("agent verifying the audit: %d %v", status, out)
	}
	if status, out := o.call("POST", api.AgentAuditVerify, admin, struct{}{}); status != 200 || out["rows"].(float64) < 1 {
		t.Fatalf("admin verifying the audit: %d %v", status, out)
	}

	// A voter's session, no session, a made-up token: all refused.
	for name, tok := range map[string]string{"voter session": voterSess.Token, "none": "", "made up": strings.Repeat("A", 43)} {
		if status, out := o.call("POST", api.AgentVoterSearch, tok, map[string]string{"query": marie.NUMIC}); status != 401 || errCode(out) != "unauthorized" {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}

	// The agent finds marie by NUMIC and by e-mail, and sees her file.
	status, _ := o.call("POST", api.AgentVoterSearch, agent, map[string]string{"query": marie.NUMIC})
	if status != 200 {
		t.Fatalf("search: %d", status)
	}
	found, _ := o.env.Service.Office.FindVoters(ctx, agent, " MARIE.DUPONT@example.org ")
	if len(found) != 1 || found[0].NUMIC != marie.NUMIC {
		t.Fatalf("search by e-mail: %+v", found)
	}
	id := found[0].ID
	path := api.WithID(api.AgentVoter, 1)
	if status, out := o.call("GET", path, agent, nil); status != 200 || out["numic"] != marie.NUMIC || out["has_identifier"] != true {
		t.Fatalf("voter file: %d %v", status, out)
	}
	// Never a secret in the file.
	req, _ := http.NewRequest("GET", o.ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+agent)
	resp, _ := o.ts.Client().Do(req)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, secret := range []string{marie.Identifier, marie.Password, "argon2id"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the voter file holds %q", secret)
		}
	}

	// Unlock needs a reason, and the reason is audited.
	for range 5 {
		o.env.Service.Portal.Login(ctx, marie.Identifier, "wrong")
	}
	unlock := api.WithID(api.AgentUnlock, 1)
	if status, out := o.call("POST", unlock, agent, map[string]string{"reason": "  "}); status != 400 || errCode(out) != "invalid_input" {
		t.Fatalf("unlock without a reason: %d %v", status, out)
	}
	if status, out := o.call("POST", unlock, agent, map[string]string{"reason": "appel de l'électrice, identité vérifiée"}); status != 200 {
		t.Fatalf("unlock: %d %v", status, out)
	}
	if _, err := o.env.Service.Portal.Login(ctx, marie.Identifier, marie.Password); err != nil {
		t.Fatalf("login after unlock: %v", err)
	}
	f, _ := o.env.Service.Office.VoterFile(ctx, agent, id)
	if len(f.History) == 0 || f.History[1].Action != "voter.unlocked" || !strings.Contains(f.History[1].Detail, "identité vérifiée") || f.History[1].Actor != "agent:bob" {
		t.Fatalf("history: %+v", f.History[:2])
	}

	// An expired agent session is refused.
	o.env.Clock.Advance(service.AgentSessionTTL)
	if status, out := o.call("POST", api.AgentVoterSearch, agent, map[string]string{"query": marie.NUMIC}); status != 401 || errCode(out) != "unauthorized" {
		t.Fatalf("expired session: %d %v", status, out)
	}
	// Logging out ends a session.
	admin = o.login("alice")
	if status, _ := o.call("DELETE", api.AgentSessions, admin, nil); status != 204 {
		t.Fatal("logout")
	}
	if status, _ := o.call("POST", api.AgentAuditVerify, admin, struct{}{}); status != 401 {
		t.Fatal("a logged-out session still works")
	}
	// Wrong password.
	if status, out := o.call("POST", api.AgentSessions, "", map[string]string{"name": "alice", "password": "nope"}); status != 401 || errCode(out) != "bad_login" {
		t.Fatalf("wrong password: %d %v", status, out)
	}
}

func TestCancelLinksAndRetry(t *testing.T) {
	o := newOfficeServer(t)
	ctx := context.Background()
	svc := o.env.Service
	agent := o.login("bob")
	marie := service.DemoRoll[0]
	c, _ := svc.Portal.NewSecurityCode(ctx)
	svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: marie.NUMIC, Email: marie.Email, CodeID: c.ID, Code: servicetest.Code})
	status, out := o.call("POST", api.WithID(api.AgentCancelLinks, 1), agent, map[string]string{"reason": "courriel compromis"})
	if status != 200 || out["cancelled"].(float64) != 1 {
		t.Fatalf("cancel: %d %v", status, out)
	}
	f, _ := svc.Office.VoterFile(ctx, agent, 1)
	if len(f.PendingLinks) != 0 {
		t.Fatal("the link is still pending")
	}
	// A failed message can be retried; a pending one cannot.
	raw := o.env.DB
	if err := raw.MarkAttempt(ctx, 1, "relay down", o.env.Clock.Now(), true); err != nil {
		t.Fatal(err)
	}
	st, _ := svc.Office.OutboxStatus(ctx, agent)
	if st.Counts["failed"] != 1 || len(st.Failed) != 1 || st.Failed[0].LastError != "relay down" {
		t.Fatalf("outbox status %+v", st)
	}
	if status, _ := o.call("POST", api.WithID(api.AgentRetry, 1), agent, map[string]string{"reason": "relais rétabli"}); status != 200 {
		t.Fatalf("retry: %d", status)
	}
	if status, _ := o.call("POST", api.WithID(api.AgentRetry, 1), agent, map[string]string{"reason": "encore"}); status != 404 {
		t.Fatalf("retrying a pending message: %d", status)
	}
}
