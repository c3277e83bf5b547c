package screens

import (
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"consulvote/app/keychain"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/screens/screenstest"
	"consulvote/screens/ui"
)

func TestMain(m *testing.M) { screenstest.Main(m) }

// memKeychain is an in-memory keychain for the flow tests; the real one is
// tested against a real Secret Service (see keychain_test.go).
type memKeychain struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeychain) Save(user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[user] = secret
	return nil
}

func (k *memKeychain) Load(user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.m[user]
	if !ok {
		return "", keychain.ErrNotFound
	}
	return s, nil
}

// harness is the app on a real service and SQLite file, in a test window.
type harness struct {
	*screenstest.H
	ui    *UI
	svc   *service.Service
	clock *servicetest.Clock
	keys  Keychain
}

var marie = service.DemoRoll[0]

func newHarness(t testing.TB, opts ...func(*Options)) *harness {
	t.Helper()
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	return newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, opts...)
}

// newHarnessOn builds the UI on any portal (the local service, or later the
// remote client).
func newHarnessOn(t testing.TB, p portal.Portal, svc *service.Service, clock *servicetest.Clock, opts ...func(*Options)) *harness {
	t.Helper()
	h := &harness{H: screenstest.New(t), svc: svc, clock: clock, keys: &memKeychain{}}
	opt := Options{Election: "Mai 2026", Assistance: "assistance@vote.example", Keychain: h.keys, Language: "fr"}
	if svc != nil {
		opt.Outbox = svc.Portal
	}
	for _, o := range opts {
		o(&opt)
	}
	h.ui = New(h.App, h.Win, p, opt)
	h.Attach(h.ui.Nav, h.ui.calls)
	return h
}

// screenAs returns the struct of the screen shown, checked against T.
func screenAs[T any](h *harness) T {
	h.T.Helper()
	return screenstest.Screen[T](h.H)
}

// latestLink returns the link of the newest renewal e-mail of the outbox.
func (h *harness) latestLink() string {
	h.T.Helper()
	return screenstest.LatestLink(h.T, h.svc.Portal)
}

// requestRenewal walks E1 → E2 → E3 for marie.
func (h *harness) requestRenewal() {
	h.T.Helper()
	h.ui.Home()
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	h.Enter(r.code.Entry, servicetest.Code)
	screenAs[*sentScreen](h)
}

// renewToE6 walks the whole renewal for marie up to E6.
func (h *harness) renewToE6() *identifierScreen {
	h.T.Helper()
	h.requestRenewal()
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	test.Type(cf.password.Entry, marie.Password)
	h.Enter(cf.code.Entry, servicetest.Code)
	return screenAs[*identifierScreen](h)
}

// openLink pastes link on the "J'ai reçu le courriel" screen.
func (h *harness) openLink(link string) {
	h.T.Helper()
	h.ui.Home()
	h.Tap(screenAs[*homeScreen](h).haveMail)
	p := screenAs[*pasteScreen](h)
	h.Enter(p.link.Entry, link)
}

func portalConfirm(link, codeID string) portal.ConfirmRequest {
	return portal.ConfirmRequest{Link: link, Password: marie.Password, CodeID: codeID, Code: servicetest.Code}
}

// newOfficeHarness is the app with the office behind its toolbar, on a
// service with an admin (alice) and an agent (bob).
func newOfficeHarness(t testing.TB, settings ...func(*service.Config)) (*harness, *servicetest.Env) {
	t.Helper()
	e := screenstest.OfficeEnv(t, settings...)
	return newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, withOffice(e)), e
}

// withOffice mounts the office of e's service.
func withOffice(e *servicetest.Env) func(*Options) {
	return func(o *Options) { o.Office, o.RollAdmin = e.Service.Office, e.Service.Office }
}

// The office's screens are package office's: the voter's tests reach
// them as an agent does, by the labels on the screen.

// tapLabel taps the button whose label starts with label.
func (h *harness) tapLabel(label string) {
	h.T.Helper()
	h.Tap(screenstest.ByLabel[*ui.Button](h.H, label))
}

// entry is the field labelled with key's words.
func (h *harness) entry(key string) *ui.Entry {
	h.T.Helper()
	return screenstest.ByLabel[*ui.Entry](h.H, lang.L(key))
}

// agentLogin opens the office from the toolbar and logs the agent in,
// logging out the one logged in, if any.
func (h *harness) agentLogin(name string) {
	h.T.Helper()
	h.Tap(h.ui.officeButton)
	if strings.Contains(h.Texts(), lang.L("office.logout")) { // the office's home
		h.tapLabel(lang.L("office.logout"))
		h.Tap(h.ui.officeButton)
	}
	test.Type(h.entry("field.name"), name)
	h.submitAgent(name)
}

// submitAgent types the agent's password and, when it has a second
// factor, its current code, and submits the office login.
func (h *harness) submitAgent(name string) {
	h.T.Helper()
	test.Type(h.entry("field.password"), screenstest.AgentPassword)
	code := h.entry("field.otp")
	if c := screenstest.AgentCode(h.T, h.svc, h.clock, name); c != "" {
		test.Type(code, c)
	}
	h.Enter(code, "")
	h.See(lang.L("office.logout")) // the office's home
}

// agentLogout logs the agent out from the office's home.
func (h *harness) agentLogout() {
	h.T.Helper()
	h.Tap(h.ui.officeButton)
	h.tapLabel(lang.L("office.logout"))
}

// openFile logs the agent in, finds the voter by NUMIC and opens the file.
func (h *harness) openFile(agent, numic string) {
	h.T.Helper()
	h.ui.Home()
	h.agentLogin(agent)
	h.tapLabel(lang.L("office.desk"))
	h.Enter(h.entry("field.query"), numic)
	h.tapLabel(numic + " — ")
}
