package office

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/server"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/screens/screenstest"
	"consulvote/screens/ui"
)

func TestMain(m *testing.M) { screenstest.Main(m) }

// harness is the office on a real service, in a test window.
type harness struct {
	*screenstest.H
	ui    *UI
	svc   *service.Service
	clock *servicetest.Clock
}

var marie = service.DemoRoll[0]

// firstPage is the page the window starts on and logging out goes back
// to: the voter's home in the app.
type firstPage struct{}

// newOfficeHarness is the office on a service with an admin (alice) and
// an agent (bob).
func newOfficeHarness(t *testing.T, settings ...func(*service.Config)) (*harness, *servicetest.Env) {
	t.Helper()
	e := screenstest.OfficeEnv(t, settings...)
	return newHarnessOn(t, e, e.Service.Office, e.Service.Office), e
}

// newRemoteOfficeHarness is the office in remote mode: the remote client
// over TLS to the real server; no roll import there (local mode only).
func newRemoteOfficeHarness(t *testing.T, settings ...func(*service.Config)) (*harness, *servicetest.Env) {
	t.Helper()
	e := screenstest.OfficeEnv(t, settings...)
	ts := httptest.NewTLSServer(server.New(e.Service.Portal, server.Options{PerClient: -1, Office: e.Service.Office}))
	t.Cleanup(ts.Close)
	client, err := remote.New(ts.URL, remote.Options{TLS: ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessOn(t, e, client, nil), e
}

// newHarnessOn is the office on office and roll, for e's service.
func newHarnessOn(t *testing.T, e *servicetest.Env, office portal.Office, roll portal.RollAdmin) *harness {
	t.Helper()
	h := &harness{H: screenstest.New(t), svc: e.Service, clock: e.Clock}
	h.App.Settings().SetTheme(ui.Theme{}) // as the app sets it
	nav := ui.NewNav(h.Win, func() *ui.Page {
		return &ui.Page{Title: "Accueil", Content: widget.NewLabel("Accueil"), Screen: firstPage{}}
	})
	h.Win.SetContent(nav.Body())
	calls := &ui.Calls{}
	h.ui = New(h.Win, nav, calls, Options{Office: office, RollAdmin: roll, Assistance: "assistance@vote.example"})
	nav.Home()
	h.Attach(nav, calls)
	return h
}

// screenAs returns the struct of the screen shown, checked against T.
func screenAs[T any](h *harness) T {
	h.T.Helper()
	return screenstest.Screen[T](h.H)
}

// agentLogin opens the office from the first page and logs the agent
// name in, in place of the one logged in, if any.
func (h *harness) agentLogin(name string) *officeHomeScreen {
	h.T.Helper()
	h.ui.agent = nil
	h.ui.Home()
	h.ui.Open()
	l := screenAs[*officeLoginScreen](h)
	test.Type(l.name.Entry, name)
	h.submitAgent(l, name)
	return screenAs[*officeHomeScreen](h)
}

// submitAgent types the agent's password and, when it has a second
// factor, its current code, and submits the office login.
func (h *harness) submitAgent(l *officeLoginScreen, name string) {
	h.T.Helper()
	test.Type(l.password.Entry, screenstest.AgentPassword)
	if code := screenstest.AgentCode(h.T, h.svc, h.clock, name); code != "" {
		test.Type(l.code.Entry, code)
	}
	h.Enter(l.code.Entry, "")
}

// latestLink returns the link of the newest renewal e-mail of the outbox.
func (h *harness) latestLink() string {
	h.T.Helper()
	return screenstest.LatestLink(h.T, h.svc.Portal)
}
