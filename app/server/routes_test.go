package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// routeSeen tells which route each request matched.
type routeSeen chan string

func (s routeSeen) Request(route string, _ int, _ time.Duration) { s <- route }

// TestEveryRouteBothWays: every route the server serves is one the remote
// client calls, and every call of the client lands on a route the server
// serves, with a body the server reads. A route added on one side only,
// or a method, path or body that differs, fails here.
func TestEveryRouteBothWays(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	seen := make(routeSeen, 4)
	h := New(e.Service.Portal, Options{PerClient: -1, Office: e.Service.Office, Observer: seen})
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	c, err := remote.New(ts.URL, remote.Options{TLS: ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	for name, call := range clientCalls(c) {
		err := call(context.Background())
		select {
		case route := <-seen:
			called[route] = true
			if route == "unmatched" {
				t.Errorf("%s: the client calls a route the server does not serve (%v)", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no request reached the server (%v)", name, err)
		}
		switch code := portal.ErrorCode(err); code {
		case "malformed_body", "unsupported_media_type", "method_not_allowed":
			t.Errorf("%s: the server does not read what the client sends: %v", name, err)
		}
	}
	// Not the app's: the probes' and the browser's.
	notClients := map[string]bool{"GET " + api.Health: true, "GET " + portal.LinkPath: true}
	for _, p := range h.patterns {
		if !called[p] && !notClients[p] {
			t.Errorf("the server serves %s, which the client never calls", p)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[portal.Portal](), reflect.TypeFor[portal.Office]()} {
		for m := range typ.Methods() {
			if clientCalls(c)[m.Name] == nil {
				t.Errorf("%s.%s is not called in this test", typ, m.Name)
			}
		}
	}
}

// clientCalls calls each method of the contract on c once, with arguments
// the client sends on (a link of the right shape, ids in paths).
func clientCalls(c *remote.Client) map[string]func(context.Context) error {
	const token = "no-such-session"
	link := "https://vote.example" + portal.LinkPath + "?" + portal.LinkTokenParam + "=" + strings.Repeat("A", 43)
	change := portal.ContactChangeRequest{VoterID: 1, Email: "a@example.org", Reason: "r"}
	return map[string]func(context.Context) error{
		"NewSecurityCode":   func(ctx context.Context) error { _, err := c.NewSecurityCode(ctx); return err },
		"SecurityCodeAudio": func(ctx context.Context) error { _, err := c.SecurityCodeAudio(ctx, "x", "fr"); return err },
		"RequestIdentifierRenewal": func(ctx context.Context) error {
			return c.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{})
		},
		"InspectLink": func(ctx context.Context) error { _, err := c.InspectLink(ctx, link); return err },
		"ConfirmIdentifierRenewal": func(ctx context.Context) error {
			_, err := c.ConfirmIdentifierRenewal(ctx, portal.ConfirmRequest{Link: link})
			return err
		},
		"RequestPasswordRenewal": func(ctx context.Context) error { return c.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{}) },
		"Login":                  func(ctx context.Context) error { _, err := c.Login(ctx, "x", "y"); return err },
		"Logout":                 func(ctx context.Context) error { return c.Logout(ctx, token) },
		"AgentLogin":             func(ctx context.Context) error { _, err := c.AgentLogin(ctx, "x", "y", "123456"); return err },
		"AgentLogout":            func(ctx context.Context) error { return c.AgentLogout(ctx, token) },
		"FindVoters":             func(ctx context.Context) error { _, err := c.FindVoters(ctx, token, "x"); return err },
		"VoterFile":              func(ctx context.Context) error { _, err := c.VoterFile(ctx, token, 1); return err },
		"UnlockVoter":            func(ctx context.Context) error { return c.UnlockVoter(ctx, token, 1, "r") },
		"CancelLinks":            func(ctx context.Context) error { _, err := c.CancelLinks(ctx, token, 1, "r"); return err },
		"OutboxStatus":           func(ctx context.Context) error { _, err := c.OutboxStatus(ctx, token); return err },
		"RetryMessage":           func(ctx context.Context) error { return c.RetryMessage(ctx, token, 1, "r") },
		"VerifyAudit":            func(ctx context.Context) error { _, err := c.VerifyAudit(ctx, token); return err },
		"AuditEntries": func(ctx context.Context) error {
			_, err := c.AuditEntries(ctx, token, portal.AuditFilter{NUMIC: "00012345"})
			return err
		},
		"ProposeContactChange":  func(ctx context.Context) error { _, err := c.ProposeContactChange(ctx, token, change); return err },
		"PendingContactChanges": func(ctx context.Context) error { _, err := c.PendingContactChanges(ctx, token); return err },
		"ApproveContactChange":  func(ctx context.Context) error { _, err := c.ApproveContactChange(ctx, token, 1); return err },
		"RejectContactChange":   func(ctx context.Context) error { _, err := c.RejectContactChange(ctx, token, 1, "r"); return err },
		"StartRenewal": func(ctx context.Context) error {
			_, err := c.StartRenewal(ctx, token, 1, portal.RenewIdentifier, "r")
			return err
		},
	}
}
