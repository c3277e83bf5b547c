package screens

import (
	"fmt"
	"strings"
	"testing"

	"consulvote/screens/ui"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// scales are the window of 1024×768 pixels at 100 %, 150 % and 200 %, in
// the units Fyne lays out in: the same pixels at a larger scale are fewer
// units.
var scales = []float32{1, 1.5, 2}

func windowAt(scale float32) fyne.Size { return fyne.NewSize(1024/scale, 768/scale) }

// TestFailedSubmitInView: at every scale, a failed submit of a voter's or
// an agent's form leaves the focus on the field to correct, with that
// field and its message inside the visible part of the page, and the
// message in the field's name for screen readers.
func TestFailedSubmitInView(t *testing.T) {
	for _, scale := range scales {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			h, _ := newOfficeHarness(t)
			h.win.Resize(windowAt(scale))
			h.wait()

			// E2, a wrong security code, by Enter in the code.
			h.tap(screenAs[*homeScreen](h).lostID)
			r := screenAs[*requestScreen](h)
			test.Type(r.numic.Entry, marie.NUMIC)
			test.Type(r.email.Entry, marie.Email)
			h.enter(r.code.Entry, "1234")
			h.see("Le code de sécurité est incorrect.")
			assertFailedInView(t, h, r.code.Field, r.code.Err)

			// E2, a wrong e-mail: the summary names it; focus on it.
			r.email.Entry.SetText("marie@")
			h.enter(r.code.Entry, "7777")
			h.see("1 champ à corriger : Adresse électronique.")
			assertFailedInView(t, h, r.email, r.email.Err)

			// E1, a wrong password: the page's message.
			h.ui.Home()
			home := screenAs[*homeScreen](h)
			test.Type(home.identifier.Entry, "ABCD-EFGH-JKLM")
			h.enter(home.password.Entry, "wrong password")
			assertFailedInView(t, h, home.password, home.msg.Label)

			// The agents' login, a wrong password.
			h.ui.Home()
			h.tap(h.ui.officeButton)
			l := screenAs[*officeLoginScreen](h)
			test.Type(l.name.Entry, "bob")
			h.enter(l.password.Entry, "wrong")
			assertFailedInView(t, h, l.password, l.msg.Label)
		})
	}
}

// assertFailedInView fails unless f has the focus, f and msg are in view,
// and f's name for screen readers says msg.
func assertFailedInView(t *testing.T, h *harness, f *ui.Field, msg *widget.Label) {
	t.Helper()
	h.wait()
	if got := h.win.Canvas().Focused(); got != f.Entry {
		t.Fatalf("%q: focus on %T, want the field %q", h.win.Title(), got, f.Label.Text)
	}
	if !msg.Visible() || msg.Text == "" {
		t.Fatalf("%q: no message shown", h.win.Title())
	}
	assertInView(t, h, f.Entry)
	assertInView(t, h, msg)
	if !strings.Contains(f.Entry.AccessibilityLabel(), msg.Text) {
		t.Fatalf("%q: a screen reader hears %q on the field, not %q", h.win.Title(), f.Entry.AccessibilityLabel(), msg.Text)
	}
}

// TestFocusStaysAfterInPageActions: an action that stays on the page,
// pressed by the keyboard, leaves the focus on its button (the next Tab
// goes on from there), at every scale; the result is in view.
func TestFocusStaysAfterInPageActions(t *testing.T) {
	for _, scale := range scales {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.Player = &fakePlayer{} })
			h.win.Resize(windowAt(scale))
			c := h.win.Canvas()
			press := func(b *ui.Button, k fyne.KeyName) {
				t.Helper()
				c.Focus(b)
				key(b, k)
				h.wait()
				if c.Focused() != b {
					t.Fatalf("%q: after %q, focus on %T", h.win.Title(), b.Text, c.Focused())
				}
				assertInView(t, h, b)
			}
			h.tap(screenAs[*homeScreen](h).lostID)
			r := screenAs[*requestScreen](h)
			press(r.code.listen, fyne.KeyReturn)
			press(r.code.refresh, fyne.KeyReturn)
			id := h.renewToE6()
			press(id.spell, fyne.KeyReturn)
			assertInView(t, h, id.spelled)
			press(id.copyBtn, fyne.KeyReturn)
			h.see("Identifiant copié.")
			assertInView(t, h, id.msg.Label)
			press(id.save, fyne.KeyReturn)
			assertInView(t, h, id.msg.Label)
		})
	}
}

// TestTabShowsWhatItReaches: in the pages that scroll most (Sent messages
// with several bodies, the voter file down to its History), every stop of
// Tab, at 200 %, is scrolled into view (its top, for a text taller than
// the page), and the arrows read the History to its last line.
func TestTabShowsWhatItReaches(t *testing.T) {
	h, _ := newOfficeHarness(t)
	h.win.Resize(windowAt(2))
	for range 3 {
		h.requestRenewal()
	}
	h.tap(h.ui.messagesButton)
	ob := screenAs[*outboxScreen](h)
	if len(ob.bodies) < 3 {
		t.Fatalf("%d message bodies", len(ob.bodies))
	}
	tabThrough(t, h)

	f := h.openFile("bob", marie.NUMIC)
	for range 3 { // a history longer than the page
		f.reason.Entry.SetText("appel de l'électrice")
		f.act(true)
		h.wait()
	}
	if len(f.history.Objects) != 1 {
		t.Fatal("no History text")
	}
	history := f.history.Objects[0].(*ui.ReadOnlyText)
	tabThrough(t, h)
	c := h.win.Canvas()
	c.Focus(history)
	for range strings.Count(history.Text, "\n") + 20 {
		key(history, fyne.KeyDown)
	}
	// The last line is in view: the page's end.
	if got, want := h.ui.Scroll().Offset.Y, h.ui.Scroll().Content.Size().Height-h.ui.Scroll().Size().Height; got < want-1 {
		t.Fatalf("the arrows stopped scrolling at %.0f of %.0f", got, want)
	}
}

// tabThrough presses Tab through the page, checking each stop is in view.
func tabThrough(t *testing.T, h *harness) {
	t.Helper()
	c := h.win.Canvas()
	first := c.Focused()
	for n := 0; n < 60; n++ {
		c.FocusNext()
		f, _ := c.Focused().(fyne.CanvasObject)
		if f == nil || c.Focused() == first {
			return
		}
		if !h.ui.OnPage(f) {
			continue // the toolbar, above the page
		}
		d := fyne.CurrentApp().Driver()
		top := d.AbsolutePositionForObject(f).Y - d.AbsolutePositionForObject(h.ui.Scroll()).Y
		if top < 0 || top >= h.ui.Scroll().Size().Height {
			t.Fatalf("%q: Tab stop %d (%T) at %.0f, out of the %.0f visible", h.win.Title(), n, f, top, h.ui.Scroll().Size().Height)
		}
	}
}
