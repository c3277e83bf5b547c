// Package screenstest is what the tests of the app's screens share, the
// voter's (package screens) and the office's (screens/office): the app in
// a test window whose portal calls' results the test runs on its own
// goroutine, the gestures of a keyboard user, what the window shows, the
// widgets found by their labels, and a service with agents.
package screenstest

import (
	// Before Fyne reads the locale (LANG=C.UTF-8 in CI).
	_ "consulvote/internal/localeenv"
	"image/png"
	"path/filepath"

	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/resources"
	"consulvote/screens/ui"
)

// Main runs a screens package's tests: in UTC, which the screens show as
// local time and the tests read, and in French.
func Main(m *testing.M) {
	time.Local = time.UTC
	if err := resources.LoadTranslations("fr"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// H is a test window with a navigator whose calls' results wait for Wait.
type H struct {
	T   testing.TB
	App fyne.App
	Win fyne.Window
	// Nav and Calls are the screens' navigator and calls (Attach).
	Nav   *ui.Nav
	Calls *ui.Calls
	// results are the portal calls' results waiting for the UI goroutine.
	results chan func()
}

// New is a test app and window, to Attach screens to.
func New(t testing.TB) *H {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(760, 840))
	return &H{T: t, App: a, Win: w, results: make(chan func(), 1000)}
}

// Attach makes the screens drawn with nav and calling through calls the
// ones the test drives, and waits for their first calls.
func (h *H) Attach(nav *ui.Nav, calls *ui.Calls) {
	h.Nav, h.Calls = nav, calls
	calls.Post = func(fn func()) { h.results <- fn }
	h.Wait()
}

// Wait lets the portal calls under way finish and shows their results, on
// the test's goroutine as the real driver would on the main one; results
// may start more calls, which it waits for too.
func (h *H) Wait() {
	for {
		h.Calls.Wait()
		select {
		case fn := <-h.results:
			fn()
		default:
			return
		}
	}
}

// Screen returns the struct of the screen shown, checked against T.
func Screen[T any](h *H) T {
	h.T.Helper()
	h.Wait()
	s, ok := h.Nav.Top().Screen.(T)
	if !ok {
		var want T
		h.T.Fatalf("screen is %T (%q), want %T", h.Nav.Top().Screen, h.Win.Title(), want)
	}
	return s
}

// Tap taps b, which must be enabled, and waits for what it started.
func (h *H) Tap(b *ui.Button) {
	h.T.Helper()
	if b.Disabled() {
		h.T.Fatalf("button %q is disabled", b.Text)
	}
	test.Tap(b)
	h.Wait()
}

// Enter types text in e (keeping what is there) and presses Return.
func (h *H) Enter(e *ui.Entry, text string) {
	test.Type(e, text)
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.Wait()
}

// Key sends a key to e, as the keyboard would.
func Key(e fyne.Focusable, k fyne.KeyName) { e.TypedKey(&fyne.KeyEvent{Name: k}) }

// visible calls visit on every object the user can see in the window,
// overlays included: what is hidden, or inside something hidden, is not
// seen.
func (h *H) visible(visit func(o fyne.CanvasObject)) {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		visit(o)
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(h.Win.Content())
	for _, o := range h.Win.Canvas().Overlays().List() {
		walk(o)
	}
}

// Texts returns every text the user can see in the window.
func (h *H) Texts() string {
	var b strings.Builder
	h.visible(func(o fyne.CanvasObject) {
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
	})
	return b.String()
}

// See fails the test unless the window shows want.
func (h *H) See(want string) {
	h.T.Helper()
	if got := h.Texts(); !strings.Contains(got, want) {
		h.T.Fatalf("the window (%q) does not show %q; it shows:\n%s", h.Win.Title(), want, got)
	}
}

// NotSee fails the test if the window shows unwanted.
func (h *H) NotSee(unwanted string) {
	h.T.Helper()
	if got := h.Texts(); strings.Contains(got, unwanted) {
		h.T.Fatalf("the window (%q) shows %q:\n%s", h.Win.Title(), unwanted, got)
	}
}

// OverlayButton finds a button by its text in the overlays (dialogs).
func (h *H) OverlayButton(text string) *ui.Button {
	h.T.Helper()
	for _, o := range h.Win.Canvas().Overlays().List() {
		for _, obj := range test.LaidOutObjects(o) {
			if b, ok := obj.(*ui.Button); ok && b.Text == text && b.Visible() {
				return b
			}
		}
	}
	h.T.Fatalf("no button %q in a dialog", text)
	return nil
}

// ByLabel finds the visible widget of type T whose label for screen
// readers starts with label, as a user who reads the window (or hears
// it) would: a field by its label, a button by its text.
func ByLabel[T fyne.Accessible](h *H, label string) T {
	h.T.Helper()
	var found []T
	h.visible(func(o fyne.CanvasObject) {
		if w, ok := o.(T); ok && strings.HasPrefix(w.AccessibilityLabel(), label) {
			found = append(found, w)
		}
	})
	if len(found) == 0 {
		var want T
		h.T.Fatalf("the window (%q) has no %T labelled %q; it shows:\n%s", h.Win.Title(), want, label, h.Texts())
	}
	return found[0]
}

// Capture writes what the window shows, drawn by Fyne's test driver, to
// $CONSULVOTE_SCREENSHOTS/name.png when that variable names a folder.
func (h *H) Capture(name string) {
	dir := os.Getenv("CONSULVOTE_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Lay the page out again at full height, as the real window does.
	size := h.Win.Canvas().Size()
	h.Win.Resize(fyne.NewSize(size.Width, 1100))
	defer h.Win.Resize(size)
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		h.T.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, h.Win.Canvas().Capture()); err != nil {
		h.T.Fatal(err)
	}
}

// PressSpace sends what the keyboard sends for Space to the focused
// object: key down, the typed key, the typed space, key up.
func PressSpace(c fyne.Canvas) {
	ev := &fyne.KeyEvent{Name: fyne.KeySpace}
	if k, ok := c.Focused().(interface{ KeyDown(*fyne.KeyEvent) }); ok {
		k.KeyDown(ev)
	}
	c.Focused().TypedKey(ev)
	c.Focused().TypedRune(' ')
	if k, ok := c.Focused().(interface{ KeyUp(*fyne.KeyEvent) }); ok {
		k.KeyUp(ev)
	}
}

// AssertInView fails unless o lies within the page's visible part.
func AssertInView(t testing.TB, h *H, o fyne.CanvasObject) {
	t.Helper()
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(h.Nav.Scroll()).Y
	if top < 0 || top+o.Size().Height > h.Nav.Scroll().Size().Height {
		t.Fatalf("%T at %.0f..%.0f, out of the %.0f visible", o, top, top+o.Size().Height, h.Nav.Scroll().Size().Height)
	}
}

// RawKey is what lang.L shows for a key missing from the translations.
var RawKey = regexp.MustCompile(`(?m)^\s*[a-z_]+\.[a-z_.]+\s*$`)

// Scales are the window of 1024×768 pixels at 100 %, 150 % and 200 %, in
// the units Fyne lays out in: the same pixels at a larger scale are fewer
// units.
var Scales = []float32{1, 1.5, 2}

// WindowAt is a 1024×768 screen at scale, in Fyne's units.
func WindowAt(scale float32) fyne.Size { return fyne.NewSize(1024/scale, 768/scale) }

// AssertFailedInView fails unless f has the focus, f and msg are in view,
// and f's name for screen readers says msg.
func AssertFailedInView(t testing.TB, h *H, f *ui.Field, msg *widget.Label) {
	t.Helper()
	h.Wait()
	if got := h.Win.Canvas().Focused(); got != f.Entry {
		t.Fatalf("%q: focus on %T, want the field %q", h.Win.Title(), got, f.Label.Text)
	}
	if !msg.Visible() || msg.Text == "" {
		t.Fatalf("%q: no message shown", h.Win.Title())
	}
	AssertInView(t, h, f.Entry)
	AssertInView(t, h, msg)
	if !strings.Contains(f.Entry.AccessibilityLabel(), msg.Text) {
		t.Fatalf("%q: a screen reader hears %q on the field, not %q", h.Win.Title(), f.Entry.AccessibilityLabel(), msg.Text)
	}
}

// TabThrough presses Tab through the page, checking each stop is in view.
func TabThrough(t testing.TB, h *H) {
	t.Helper()
	c := h.Win.Canvas()
	first := c.Focused()
	for n := 0; n < 60; n++ {
		c.FocusNext()
		f, _ := c.Focused().(fyne.CanvasObject)
		if f == nil || c.Focused() == first {
			return
		}
		if !h.Nav.OnPage(f) {
			continue // the toolbar, above the page
		}
		d := fyne.CurrentApp().Driver()
		top := d.AbsolutePositionForObject(f).Y - d.AbsolutePositionForObject(h.Nav.Scroll()).Y
		if top < 0 || top >= h.Nav.Scroll().Size().Height {
			t.Fatalf("%q: Tab stop %d (%T) at %.0f, out of the %.0f visible", h.Win.Title(), n, f, top, h.Nav.Scroll().Size().Height)
		}
	}
}

// AgentPassword is every test agent's password.
const AgentPassword = "correct horse battery"

// agentSecrets holds the TOTP secrets of the test agents, by service and
// name, for AgentCode.
var agentSecrets sync.Map

type agentKey struct {
	svc  *service.Service
	name string
}

// OfficeEnv is a service with an admin (alice) and an agent (bob), both
// with a second factor, under the default settings changed by settings.
func OfficeEnv(t testing.TB, settings ...func(*service.Config)) *servicetest.Env {
	t.Helper()
	cfg := servicetest.Config()
	for _, set := range settings {
		set(&cfg)
	}
	e := servicetest.New(t, cfg, service.Options{})
	for name, role := range map[string]portal.Role{"alice": portal.RoleAdmin, "bob": portal.RoleAgent} {
		addAgent(t, e, name, role, portal.Scope{Central: true})
	}
	return e
}

// addAgent adds an agent to e, with a second factor if an admin.
func addAgent(t testing.TB, e *servicetest.Env, name string, role portal.Role, scope portal.Scope) {
	t.Helper()
	enr, err := e.Service.Operator.AddAgent(context.Background(), name, role, AgentPassword, role == portal.RoleAdmin, scope)
	if err != nil {
		t.Fatal(err)
	}
	agentSecrets.Store(agentKey{e.Service, name}, enr.Secret)
}

// AgentCode is the one-time code the agent name of svc types now, "" when
// it has no second factor; clock moves on first, as a code serves once.
func AgentCode(t testing.TB, svc *service.Service, clock *servicetest.Clock, name string) string {
	t.Helper()
	s, ok := agentSecrets.Load(agentKey{svc, name})
	if !ok || s.(string) == "" {
		return ""
	}
	clock.Advance(30 * time.Second)
	return servicetest.TOTP(t, s.(string), clock.Now())
}

// linkInText finds renewal links in a message's text.
var linkInText = regexp.MustCompile(`https?://[^\s<>"]+` + regexp.QuoteMeta(portal.LinkPath) + `\?` + portal.LinkTokenParam + `=[A-Za-z0-9_-]+`)

// PasswordInSMS finds the password in an SMS.
var PasswordInSMS = regexp.MustCompile(`\b[A-Za-z0-9]{12}\b`)

// Messages returns the newest 50 messages of the outbox o.
func Messages(t testing.TB, o portal.Outbox) []portal.Message {
	t.Helper()
	ms, err := o.Messages(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// LatestLink returns the link of the newest renewal e-mail of the outbox.
func LatestLink(t testing.TB, o portal.Outbox) string {
	t.Helper()
	for _, m := range Messages(t, o) {
		if l := linkInText.FindString(m.Text); l != "" {
			return l
		}
	}
	t.Fatal("no link in the outbox")
	return ""
}
