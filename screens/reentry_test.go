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
	"consulvote/screens/screenstest"
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
	screenstest.Key(home.password.Entry, fyne.KeyReturn)
	screenstest.Key(home.password.Entry, fyne.KeyReturn) // the call is under way
	screenstest.Key(home.identifier.Entry, fyne.KeyReturn)
	screenstest.Key(home.login.Button, fyne.KeyReturn) // and a click on the (disabled) button
	h.Wait()
	if n := cp.logins.Load(); n != 1 {
		t.Fatalf("%d logins for a double Enter, want 1", n)
	}
	screenAs[*spaceScreen](h)
	if h.ui.Depth() != 2 {
		t.Fatalf("%d pages on the stack, want home and the space", h.ui.Depth())
	}

	h.ui.Home()
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	test.Type(r.code.Entry, servicetest.Code)
	screenstest.Key(r.code.Entry, fyne.KeyReturn)
	screenstest.Key(r.email.Entry, fyne.KeyReturn)
	r.send.Submit()
	h.Wait()
	if n := cp.requests.Load(); n != 1 {
		t.Fatalf("%d renewal requests for a double Enter, want 1", n)
	}
	screenAs[*sentScreen](h)
	if h.ui.Depth() != 2 {
		t.Fatalf("%d pages on the stack, want home and E3", h.ui.Depth())
	}
	// The form works again once the call is over.
	h.ui.Home()
	h.Tap(screenAs[*homeScreen](h).lostID)
	r = screenAs[*requestScreen](h)
	h.Enter(r.numic.Entry, "")
	h.See("Saisissez votre adresse électronique.")
}
