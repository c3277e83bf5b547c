package screens

import (
	"context"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// countingPortal counts the calls that change something.
type countingPortal struct {
	portal.Portal
	logins, requests atomic.Int32
}

func (p *countingPortal) Login(ctx context.Context, id, pw string) (portal.Session, error) {
	p.logins.Add(1)
	return p.Portal.Login(ctx, id, pw)
}

func (p *countingPortal) RequestIdentifierRenewal(ctx context.Context, r portal.IdentifierRenewalRequest) error {
	p.requests.Add(1)
	return p.Portal.RequestIdentifierRenewal(ctx, r)
}

// TestDoubleEnterSubmitsOnce: Enter pressed twice (or Enter and a click)
// while the call runs sends one request and shows one next page.
func TestDoubleEnterSubmitsOnce(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	cp := &countingPortal{Portal: e.Service.Portal}
	h := newHarnessOn(t, cp, e.Service, e.Clock)

	home := screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, marie.Identifier)
	test.Type(home.password.Entry, marie.Password)
	key(home.password.Entry, fyne.KeyReturn)
	key(home.password.Entry, fyne.KeyReturn) // the call is under way
	key(home.identifier.Entry, fyne.KeyReturn)
	key(home.login.Button, fyne.KeyReturn) // and a click on the (disabled) button
	h.wait()
	if n := cp.logins.Load(); n != 1 {
		t.Fatalf("%d logins for a double Enter, want 1", n)
	}
	screenAs[*spaceScreen](h)
	if h.ui.Depth() != 2 {
		t.Fatalf("%d pages on the stack, want home and the space", h.ui.Depth())
	}

	h.ui.Home()
	h.tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	test.Type(r.code.Entry, servicetest.Code)
	key(r.code.Entry, fyne.KeyReturn)
	key(r.email.Entry, fyne.KeyReturn)
	r.send.Submit()
	h.wait()
	if n := cp.requests.Load(); n != 1 {
		t.Fatalf("%d renewal requests for a double Enter, want 1", n)
	}
	screenAs[*sentScreen](h)
	if h.ui.Depth() != 2 {
		t.Fatalf("%d pages on the stack, want home and E3", h.ui.Depth())
	}
	// The form works again once the call is over.
	h.ui.Home()
	h.tap(screenAs[*homeScreen](h).lostID)
	r = screenAs[*requestScreen](h)
	h.enter(r.numic.Entry, "")
	h.see("Saisissez votre adresse électronique.")
}

// blockingOffice holds FindVoters until released, then records the token
// the call was given.
type blockingOffice struct {
	portal.Office
	release chan struct{}
	tokens  chan string
}

func (o *blockingOffice) FindVoters(ctx context.Context, token, q string) ([]portal.VoterSummary, error) {
	<-o.release
	o.tokens <- token
	return o.Office.FindVoters(ctx, token, q)
}

// TestAgentSessionReadOnUIGoroutine: a desk search under way while the
// agent logs out uses the session it started with, which was read on the
// UI goroutine. Reading it in the call instead is a data race with the
// logout, which `make race` (-race) reports here.
func TestAgentSessionReadOnUIGoroutine(t *testing.T) {
	e := officeEnv(t)
	bo := &blockingOffice{Office: e.Service.Office, release: make(chan struct{}), tokens: make(chan string, 1)}
	h := newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, func(o *Options) { o.Office = bo })
	home := h.agentLogin("bob")
	started := h.ui.agent.Token
	h.tap(home.desk)
	d := screenAs[*deskScreen](h)
	test.Type(d.query.Entry, marie.NUMIC)
	key(d.query.Entry, fyne.KeyReturn)
	// The agent logs out while the search runs (on the UI goroutine, as a
	// click would).
	h.ui.office()
	oh := h.ui.Top().Screen.(*officeHomeScreen) // not screenAs: it would wait for the search
	test.Tap(oh.logout)
	close(bo.release)
	got := <-bo.tokens
	h.wait()
	if got != started || got == "" {
		t.Fatalf("the search used token %q, want the session's %q", got, started)
	}
	if h.ui.agent != nil {
		t.Fatal("still logged in after the logout")
	}
}
