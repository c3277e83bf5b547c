package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// auditActions returns the actors and actions of the audit log about
// marie, oldest first.
func (o *officeServer) auditActions(admin string) []string {
	o.t.Helper()
	es, err := o.env.Service.Office.AuditEntries(context.Background(), admin, portal.AuditFilter{NUMIC: service.DemoRoll[0].NUMIC})
	if err != nil {
		o.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Actor+" "+es[i].Action)
	}
	return out
}

// TestDeskThroughAPI: a change of contact details and a renewal started
// for a voter over the office API, each step in the audit log, each bad
// input a stable error code.
func TestDeskThroughAPI(t *testing.T) {
	o := newOfficeServer(t)
	admin, agent := o.login("alice"), o.login("bob")
	marie := service.DemoRoll[0]
	found, _ := o.env.Service.Office.FindVoters(context.Background(), agent, marie.NUMIC)
	id := found[0].ID

	for _, tc := range []struct {
		body   map[string]string
		status int
		code   string
		field  string
	}{
		{map[string]string{"mobile": "0612345678", "document": "passport", "reason": "r"}, 400, "invalid_input", "mobile"},
		{map[string]string{"email": "john.martin@example.org", "document": "passport", "reason": "r"}, 400, "invalid_input", "email"},
		{map[string]string{"email": "a@example.org", "document": "", "reason": "r"}, 400, "invalid_input", "document"},
		{map[string]string{"email": "a@example.org", "document": "passport"}, 400, "invalid_input", "reason"},
	} {
		status, out := o.call("POST", api.WithID(api.AgentProposeChange, id), agent, tc.body)
		fields := fmt.Sprint(out["error"].(map[string]any)["fields"])
		if status != tc.status || errCode(out) != tc.code || !strings.Contains(fields, "field:"+tc.field) {
			t.Errorf("%v: %d %v, want %d %s on %s", tc.body, status, out, tc.status, tc.code, tc.field)
		}
	}
	if status, out := o.call("POST", api.WithID(api.AgentProposeChange, id), agent, map[string]any{"email": "a@example.org", "voter_id": 3}); status != 400 || errCode(out) != "malformed_body" {
		t.Errorf("an unknown field: %d %v", status, out)
	}
	if status, out := o.call("POST", api.WithID(api.AgentProposeChange, id), "", map[string]string{"email": "a@example.org"}); status != 401 {
		t.Errorf("no session: %d %v", status, out)
	}

	status, out := o.call("POST", api.WithID(api.AgentProposeChange, id), agent, map[string]string{"email": "marie.nouvelle@example.org",
		"mobile": "+33 7 00 00 00 01", "document": "consular_card", "reason": "passage au consulat"})
	if status != 200 || out["state"] != "pending" || out["new_mobile"] != "+33700000001" || out["proposed_by"] != "bob" {
		t.Fatalf("proposal: %d %v", status, out)
	}
	change := int64(out["id"].(float64))
	if status, out := o.call("POST", api.WithID(api.AgentProposeChange, id), admin, map[string]string{"email": "b@example.org",
		"document": "passport", "reason": "r"}); status != 409 || errCode(out) != "change_pending" {
		t.Errorf("a second proposal: %d %v", status, out)
	}
	if status, out := o.call("POST", api.WithID(api.AgentApproveChange, change), agent, struct{}{}); status != 403 || errCode(out) != "self_approval" {
		t.Errorf("approval by the proposer: %d %v", status, out)
	}
	if status, out := o.call("POST", api.WithID(api.AgentApproveChange, 999), admin, struct{}{}); status != 404 {
		t.Errorf("approval of no proposal: %d %v", status, out)
	}
	status, out = o.call("POST", api.WithID(api.AgentApproveChange, change), admin, struct{}{})
	if status != 200 || out["state"] != "approved" || out["decided_by"] != "alice" {
		t.Fatalf("approval: %d %v", status, out)
	}
	if status, out := o.call("POST", api.WithID(api.AgentApproveChange, change), admin, struct{}{}); status != 409 || errCode(out) != "change_decided" {
		t.Errorf("a second approval: %d %v", status, out)
	}
	if status, out := o.call("POST", api.WithID(api.AgentRejectChange, change), admin, map[string]string{"reason": "non"}); status != 409 || errCode(out) != "change_decided" {
		t.Errorf("a rejection after approval: %d %v", status, out)
	}

	// Renewals: the answer says where, never what.
	if status, out := o.call("POST", api.WithID(api.AgentRenewals, id), agent, map[string]string{"kind": "both", "reason": "r"}); status != 400 || errCode(out) != "invalid_input" {
		t.Errorf("unknown kind: %d %v", status, out)
	}
	status, out = o.call("POST", api.WithID(api.AgentRenewals, id), agent, map[string]string{"kind": "identifier", "reason": "au téléphone"})
	if status != 200 || out["channel"] != "email" || out["recipient"] != "marie.nouvelle@example.org" || len(out) != 4 {
		t.Fatalf("identifier renewal: %d %v", status, out)
	}
	if status, out := o.call("POST", api.WithID(api.AgentRenewals, id), agent, map[string]string{"kind": "password", "reason": "au téléphone"}); status != 409 || errCode(out) != "renewal_conflict" {
		t.Errorf("password while the link is pending: %d %v", status, out)
	}

	var desk []string
	for _, a := range o.auditActions(admin) {
		if strings.Contains(a, "contact.") || strings.Contains(a, "desk.") {
			desk = append(desk, a)
		}
	}
	want := []string{"agent:bob contact.change.refused", "agent:bob contact.change.proposed",
		"agent:alice contact.change.refused", "agent:bob contact.change.approval_refused", "agent:alice contact.change.approved",
		"agent:alice contact.change.approval_refused", "agent:bob desk.renewal.identifier", "agent:bob desk.renewal.refused"}
	if fmt.Sprint(desk) != fmt.Sprint(want) {
		t.Errorf("audit steps\n%v\nwant\n%v", desk, want)
	}
}

// TestDeskRemoteConcurrentApprovals: through the remote client over TLS,
// many approvals at once apply the change once.
func TestDeskRemoteConcurrentApprovals(t *testing.T) {
	o := newOfficeServer(t)
	ctx := context.Background()
	for _, n := range []string{"carol", "dave"} {
		enr, err := o.env.Service.Operator.AddAgent(ctx, n, portal.RoleAdmin, "correct horse battery", true, portal.Scope{Central: true})
		if err != nil {
			t.Fatal(err)
		}
		o.secrets[n] = enr.Secret
	}
	c, err := remote.New(o.ts.URL, remote.Options{TLS: o.ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	o.env.Clock.Advance(30 * time.Second) // past the steps newOfficeServer's logins used
	for _, n := range []string{"alice", "carol", "dave"} {
		s, err := c.AgentLogin(ctx, n, "correct horse battery", servicetest.TOTP(t, o.secrets[n], o.env.Clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, s.Token)
	}
	bob, err := c.AgentLogin(ctx, "bob", "correct horse battery", "")
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.FindVoters(ctx, bob.Token, service.DemoRoll[0].NUMIC)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.ProposeContactChange(ctx, bob.Token, portal.ContactChangeRequest{VoterID: found[0].ID,
		Mobile: "+33700000009", Document: portal.DocPassport, Reason: "au guichet"})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := c.PendingContactChanges(ctx, tokens[0])
	if err != nil || len(pending) != 1 || pending[0].ID != ch.ID || pending[0].NUMIC != service.DemoRoll[0].NUMIC {
		t.Fatalf("pending over the API: %+v, %v", pending, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, decided := 0, 0
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ApproveContactChange(ctx, tokens[i%3], ch.ID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case portal.ErrorCode(err) == portal.CodeChangeDecided:
				decided++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || decided != 29 {
		t.Fatalf("%d approvals took effect, %d refused as decided; want 1 and 29", won, decided)
	}
	f, err := c.VoterFile(ctx, bob.Token, found[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mobile != "+33700000009" || len(f.ContactChanges) != 1 || f.ContactChanges[0].State != portal.ChangeApproved {
		t.Fatalf("voter file after approval: %s %+v", f.Mobile, f.ContactChanges)
	}
	approvals := 0
	for _, h := range f.History {
		if h.Action == "contact.change.approved" {
			approvals++
			if h.Params["proposer"] != "bob" || h.Params["reason"] != "au guichet" || h.Params["document"] != "passport" {
				t.Errorf("history params over the API: %v", h.Params)
			}
		}
	}
	if approvals != 1 {
		t.Errorf("%d approvals in the history", approvals)
	}
	r, err := c.RejectContactChange(ctx, bob.Token, ch.ID, "trop tard")
	if portal.ErrorCode(err) != portal.CodeChangeDecided {
		t.Errorf("reject after approval over the API: %+v, %v", r, err)
	}
	if _, err := c.StartRenewal(ctx, bob.Token, found[0].ID, portal.RenewPassword, "au téléphone"); err != nil {
		t.Errorf("password renewal over the API: %v", err)
	}
}
