package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// TestOfficeOnSeparateListener: with the office on its own handler (serve
// --office-listen), the public one answers 404 on every agent route, and
// the office one serves the agents but none of the voters' routes.
func TestOfficeOnSeparateListener(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	enr, err := e.Service.Operator.AddAgent(context.Background(), "alice", portal.RoleAdmin, "correct horse battery", true, portal.Scope{Central: true})
	if err != nil {
		t.Fatal(err)
	}
	public := New(e.Service.Portal, Options{PerClient: -1})
	office := New(nil, Options{PerClient: -1, Office: e.Service.Office, OfficeOnly: true})
	pub, off := httptest.NewServer(public), httptest.NewServer(office)
	t.Cleanup(pub.Close)
	t.Cleanup(off.Close)

	login := []byte(`{"name":"alice","password":"correct horse battery","code":"` + servicetest.TOTP(t, enr.Secret, e.Clock.Now()) + `"}`)
	post := func(base, path string, body []byte) int {
		t.Helper()
		resp, err := http.Post(base+path, api.ContentType, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(pub.URL, api.AgentSessions, login); got != http.StatusNotFound {
		t.Errorf("agent login on the public listener: %d, want 404", got)
	}
	if got := post(off.URL, api.AgentSessions, login); got != http.StatusCreated {
		t.Errorf("agent login on the office listener: %d, want 201", got)
	}
	if got := post(off.URL, api.SecurityCodes, []byte("{}")); got != http.StatusNotFound {
		t.Errorf("security code on the office listener: %d, want 404", got)
	}
	if got := post(pub.URL, api.SecurityCodes, []byte("{}")); got != http.StatusCreated {
		t.Errorf("security code on the public listener: %d, want 201", got)
	}
}
