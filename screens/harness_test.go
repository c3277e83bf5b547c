package screens

import (
	// Before Fyne reads the locale (LANG=C.UTF-8 in CI).
	_ "consulvote/internal/localeenv"
	"consulvote/screens/ui"

	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/keychain"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/resources"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // the screens show local times; the tests read them
	if err := resources.LoadTranslations("fr"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

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
	t     testing.TB
	app   fyne.App
	win   fyne.Window
	ui    *UI
	svc   *service.Service
	clock *servicetest.Clock
	keys  Keychain
	// results are the portal calls' results waiting for the UI goroutine.
	results chan func()
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
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(760, 840))
	h := &harness{t: t, app: a, win: w, svc: svc, clock: clock, keys: &memKeychain{}, results: make(chan func(), 1000)}
	opt := Options{Election: "Mai 2026", Assistance: "assistance@vote.example", Keychain: h.keys, Language: "fr"}
	if svc != nil {
		opt.Outbox = svc.Portal
	}
	for _, o := range opts {
		o(&opt)
	}
	h.ui = New(a, w, p, opt)
	h.ui.post = func(fn func()) { h.results <- fn }
	h.wait()
	return h
}

// wait lets the portal calls under way finish and shows their results, on
// the test's goroutine as the real driver would on the main one; results
// may start more calls, which it waits for too.
func (h *harness) wait() {
	for {
		h.ui.tasks.Wait()
		select {
		case fn := <-h.results:
			fn()
		default:
			return
		}
	}
}

// screen returns the struct of the screen shown, checked against want.
func screenAs[T any](h *harness) T {
	h.t.Helper()
	h.wait()
	s, ok := h.ui.Top().Screen.(T)
	if !ok {
		var want T
		h.t.Fatalf("screen is %T (%q), want %T", h.ui.Top().Screen, h.win.Title(), want)
	}
	return s
}

func (h *harness) tap(b *ui.Button) {
	h.t.Helper()
	if b.Disabled() {
		h.t.Fatalf("button %q is disabled", b.Text)
	}
	test.Tap(b)
	h.wait()
}

// enter types text in e (keeping what is there) and presses Return.
func (h *harness) enter(e *ui.Entry, text string) {
	test.Type(e, text)
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.wait()
}

// key sends a key to e, as the keyboard would.
func key(e fyne.Focusable, k fyne.KeyName) { e.TypedKey(&fyne.KeyEvent{Name: k}) }

// texts returns every text the user can see in the window, overlays
// included: what is hidden, or inside something hidden, is not seen.
func (h *harness) texts() string {
	var b strings.Builder
	var visit func(o fyne.CanvasObject)
	visit = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *widget.Button:
			b.WriteString(w.Text + "\n")
		case *ui.Button:
			b.WriteString(w.Text + "\n")
		case *ui.Entry:
			b.WriteString(w.Text + "\n")
		case *ui.ReadOnlyText:
			b.WriteString(w.Text + "\n")
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				visit(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				visit(c)
			}
		}
	}
	visit(h.win.Content())
	for _, o := range h.win.Canvas().Overlays().List() {
		visit(o)
	}
	return b.String()
}

func (h *harness) see(want string) {
	h.t.Helper()
	if got := h.texts(); !strings.Contains(got, want) {
		h.t.Fatalf("the window (%q) does not show %q; it shows:\n%s", h.win.Title(), want, got)
	}
}

func (h *harness) notSee(unwanted string) {
	h.t.Helper()
	if got := h.texts(); strings.Contains(got, unwanted) {
		h.t.Fatalf("the window (%q) shows %q:\n%s", h.win.Title(), unwanted, got)
	}
}

// overlayButton finds a button by its text in the overlays (dialogs).
func (h *harness) overlayButton(text string) *ui.Button {
	h.t.Helper()
	for _, o := range h.win.Canvas().Overlays().List() {
		for _, obj := range test.LaidOutObjects(o) {
			if b, ok := obj.(*ui.Button); ok && b.Text == text && b.Visible() {
				return b
			}
		}
	}
	h.t.Fatalf("no button %q in a dialog", text)
	return nil
}

// latestLink returns the link of the newest renewal e-mail of the outbox.
func (h *harness) latestLink() string {
	h.t.Helper()
	ms, err := h.svc.Portal.Messages(context.Background(), 20)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range ms {
		if l := linkInText.FindString(m.Text); l != "" {
			return l
		}
	}
	h.t.Fatal("no link in the outbox")
	return ""
}

// requestRenewal walks E1 → E2 → E3 for marie.
func (h *harness) requestRenewal() {
	h.t.Helper()
	h.ui.Home()
	h.tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	h.enter(r.code.Entry, servicetest.Code)
	screenAs[*sentScreen](h)
}

// renewToE6 walks the whole renewal for marie up to E6.
func (h *harness) renewToE6() *identifierScreen {
	h.t.Helper()
	h.requestRenewal()
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	test.Type(cf.password.Entry, marie.Password)
	h.enter(cf.code.Entry, servicetest.Code)
	return screenAs[*identifierScreen](h)
}

// openLink pastes link on the "J'ai reçu le courriel" screen.
func (h *harness) openLink(link string) {
	h.t.Helper()
	h.ui.Home()
	h.tap(screenAs[*homeScreen](h).haveMail)
	p := screenAs[*pasteScreen](h)
	h.enter(p.link.Entry, link)
}

func portalConfirm(link, codeID string) portal.ConfirmRequest {
	return portal.ConfirmRequest{Link: link, Password: marie.Password, CodeID: codeID, Code: servicetest.Code}
}

func mustMessages(t *testing.T, h *harness) []portal.Message {
	t.Helper()
	ms, err := h.svc.Portal.Messages(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
