package office

import (
	"consulvote/app/portal"
	"consulvote/screens/screenstest"
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

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
	e := screenstest.OfficeEnv(t)
	bo := &blockingOffice{Office: e.Service.Office, release: make(chan struct{}), tokens: make(chan string, 1)}
	h := newHarnessOn(t, e, bo, nil)
	home := h.agentLogin("bob")
	started := h.ui.agent.Token
	h.Tap(home.desk)
	d := screenAs[*deskScreen](h)
	test.Type(d.query.Entry, marie.NUMIC)
	screenstest.Key(d.query.Entry, fyne.KeyReturn)
	// The agent logs out while the search runs (on the UI goroutine, as a
	// click would).
	h.ui.Open()
	oh := h.ui.Top().Screen.(*officeHomeScreen) // not screenAs: it would wait for the search
	test.Tap(oh.logout)
	close(bo.release)
	got := <-bo.tokens
	h.Wait()
	if got != started || got == "" {
		t.Fatalf("the search used token %q, want the session's %q", got, started)
	}
	if h.ui.agent != nil {
		t.Fatal("still logged in after the logout")
	}
}
