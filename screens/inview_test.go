package screens

import (
	"fmt"
	"testing"

	"consulvote/screens/screenstest"
	"consulvote/screens/ui"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestFailedSubmitInView: at every scale, a failed submit of a voter's
// form (an agent's: package office) leaves the focus on the field to correct, with that
// field and its message inside the visible part of the page, and the
// message in the field's name for screen readers.
func TestFailedSubmitInView(t *testing.T) {
	for _, scale := range screenstest.Scales {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			h := newHarness(t)
			h.Win.Resize(screenstest.WindowAt(scale))
			h.Wait()

			// E2, a wrong security code, by Enter in the code.
			h.Tap(screenAs[*homeScreen](h).lostID)
			r := screenAs[*requestScreen](h)
			test.Type(r.numic.Entry, marie.NUMIC)
			test.Type(r.email.Entry, marie.Email)
			h.Enter(r.code.Entry, "1234")
			h.See("Le code de sécurité est incorrect.")
			screenstest.AssertFailedInView(t, h.H, r.code.Field, r.code.Err)

			// E2, a wrong e-mail: the summary names it; focus on it.
			r.email.Entry.SetText("marie@")
			h.Enter(r.code.Entry, "7777")
			h.See("1 champ à corriger : Adresse électronique.")
			screenstest.AssertFailedInView(t, h.H, r.email, r.email.Err)

			// E1, a wrong password: the page's message.
			h.ui.Home()
			home := screenAs[*homeScreen](h)
			test.Type(home.identifier.Entry, "ABCD-EFGH-JKLM")
			h.Enter(home.password.Entry, "wrong password")
			screenstest.AssertFailedInView(t, h.H, home.password, home.msg.Label)

		})
	}
}

// TestFocusStaysAfterInPageActions: an action that stays on the page,
// pressed by the keyboard, leaves the focus on its button (the next Tab
// goes on from there), at every scale; the result is in view.
func TestFocusStaysAfterInPageActions(t *testing.T) {
	for _, scale := range screenstest.Scales {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.Player = &fakePlayer{} })
			h.Win.Resize(screenstest.WindowAt(scale))
			c := h.Win.Canvas()
			press := func(b *ui.Button, k fyne.KeyName) {
				t.Helper()
				c.Focus(b)
				screenstest.Key(b, k)
				h.Wait()
				if c.Focused() != b {
					t.Fatalf("%q: after %q, focus on %T", h.Win.Title(), b.Text, c.Focused())
				}
				screenstest.AssertInView(t, h.H, b)
			}
			h.Tap(screenAs[*homeScreen](h).lostID)
			r := screenAs[*requestScreen](h)
			press(r.code.listen, fyne.KeyReturn)
			press(r.code.refresh, fyne.KeyReturn)
			id := h.renewToE6()
			press(id.spell, fyne.KeyReturn)
			screenstest.AssertInView(t, h.H, id.spelled)
			press(id.copyBtn, fyne.KeyReturn)
			h.See("Identifiant copié.")
			screenstest.AssertInView(t, h.H, id.msg.Label)
			press(id.save, fyne.KeyReturn)
			screenstest.AssertInView(t, h.H, id.msg.Label)
		})
	}
}

// TestTabShowsWhatItReaches: in the page that scrolls most of the
// voter's (Sent messages with several bodies; the office's voter file:
// package office), every stop of Tab, at 200 %, is scrolled into view
// (its top, for a text taller than the page).
func TestTabShowsWhatItReaches(t *testing.T) {
	h := newHarness(t)
	h.Win.Resize(screenstest.WindowAt(2))
	for range 3 {
		h.requestRenewal()
	}
	h.Tap(h.ui.messagesButton)
	ob := screenAs[*outboxScreen](h)
	if len(ob.bodies) < 3 {
		t.Fatalf("%d message bodies", len(ob.bodies))
	}
	screenstest.TabThrough(t, h.H)
}
