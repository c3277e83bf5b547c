package screens

import (
	"consulvote/screens/screenstest"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestSpaceOnButtonTypesNothingNext: Space on "Identifiant perdu" opens
// E2 with its NUMIC field focused and empty.
func TestSpaceOnButtonTypesNothingNext(t *testing.T) {
	h, _ := newFakeHarness(t)
	home := screenAs[*homeScreen](h)
	c := h.Win.Canvas()
	c.Focus(home.lostID)
	screenstest.PressSpace(c)
	r := screenAs[*requestScreen](h)
	if c.Focused() != r.numic.Entry {
		t.Fatalf("focus on %T", c.Focused())
	}
	if r.numic.Entry.Text != "" {
		t.Fatalf("the NUMIC field holds %q after Space on the button", r.numic.Entry.Text)
	}
}

// TestEnterActivatesFocusedButton: Enter on a focused button is a click.
func TestEnterActivatesFocusedButton(t *testing.T) {
	h, _ := newFakeHarness(t)
	home := screenAs[*homeScreen](h)
	h.Win.Canvas().Focus(home.lostPW)
	screenstest.Key(home.lostPW, fyne.KeyReturn)
	screenAs[*passwordScreen](h)
	screenstest.Key(h.ui.BackButton, fyne.KeyEnter)
	screenAs[*homeScreen](h)
}

// TestPasswordRevealByTab: Tab goes from the password to its show/hide
// button, which Space turns.
func TestPasswordRevealByTab(t *testing.T) {
	h, _ := newFakeHarness(t)
	home := screenAs[*homeScreen](h)
	c := h.Win.Canvas()
	c.Focus(home.password.Entry)
	test.Type(home.password.Entry, "secret")
	c.FocusNext()
	if c.Focused() != home.password.Reveal {
		t.Fatalf("Tab from the password went to %T", c.Focused())
	}
	if home.password.Reveal.Label != "Afficher le mot de passe" {
		t.Errorf("reveal button labelled %q", home.password.Reveal.Label)
	}
	screenstest.PressSpace(c)
	if home.password.Entry.Password {
		t.Fatal("the password is still hidden")
	}
	if home.password.Reveal.Label != "Masquer le mot de passe" {
		t.Errorf("reveal button labelled %q once shown", home.password.Reveal.Label)
	}
	if home.password.Entry.Text != "secret" {
		t.Errorf("the password changed to %q", home.password.Entry.Text)
	}
}

// TestBackOnEveryPage: every page but the home has a visible Retour, and
// Escape goes back from a field, from a button and from nowhere.
func TestBackOnEveryPage(t *testing.T) {
	h, _ := newOfficeHarness(t)
	home := screenAs[*homeScreen](h)
	if h.ui.BackButton != nil {
		t.Error("a Retour on the home page")
	}
	for name, open := range map[string]func(){
		"request":  func() { h.Tap(home.lostID) },
		"password": func() { h.Tap(home.lostPW) },
		"paste":    func() { h.Tap(home.haveMail) },
		"help":     func() { h.Tap(h.ui.helpButton) },
		"outbox":   func() { h.Tap(h.ui.messagesButton) },
		"settings": func() { h.Tap(h.ui.settingsButton) },
		"office":   func() { h.Tap(h.ui.officeButton) },
	} {
		for _, how := range []string{"button", "escape-focused", "escape-canvas"} {
			h.ui.Home()
			home = screenAs[*homeScreen](h)
			open()
			h.Wait()
			if h.ui.BackButton == nil || !h.ui.BackButton.Visible() {
				t.Fatalf("%s: no Retour", name)
			}
			switch how {
			case "button":
				h.Tap(h.ui.BackButton)
			case "escape-focused":
				f := h.Win.Canvas().Focused()
				if f == nil {
					t.Fatalf("%s: nothing focused", name)
				}
				f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
			case "escape-canvas":
				h.Win.Canvas().Unfocus()
				h.Win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
			}
			if _, ok := h.ui.Top().Screen.(*homeScreen); !ok {
				t.Errorf("%s, %s: went to %T, not back home", name, how, h.ui.Top().Screen)
			}
		}
	}
}

// TestErrorsSummaryFocusScroll: in a window too small for the form,
// submitting it with errors says at the top which fields to correct, in
// reading order, and takes the focus to the first, scrolled into view.
func TestErrorsSummaryFocusScroll(t *testing.T) {
	h, _ := newFakeHarness(t)
	h.Win.Resize(fyne.NewSize(700, 420))
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	c := h.Win.Canvas()
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, "marie@")
	c.Focus(r.send.Button) // at the bottom: the page scrolls there
	if h.ui.Scroll().Offset.Y == 0 {
		t.Fatal("focusing the button at the bottom did not scroll to it")
	}
	screenstest.Key(r.send.Button, fyne.KeyReturn)
	h.See("2 champs à corriger : Adresse électronique, Code de sécurité.")
	if c.Focused() != r.email.Entry {
		t.Fatalf("focus on %T, want the e-mail", c.Focused())
	}
	screenstest.AssertInView(t, h.H, r.email.Label)
	screenstest.AssertInView(t, h.H, r.email.Entry)
	// Corrected, the summary goes.
	r.email.Entry.SetText(marie.Email)
	r.code.Entry.SetText("12")
	r.send.Submit()
	h.See("1 champ à corriger : Code de sécurité.")
	if c.Focused() != r.code.Entry {
		t.Fatalf("focus on %T, want the code", c.Focused())
	}
	screenstest.AssertInView(t, h.H, r.code.Entry)
	// The home page's login too.
	h.ui.Home()
	home := screenAs[*homeScreen](h)
	h.Tap(home.login.Button)
	h.See("2 champs à corriger : Identifiant, Mot de passe.")
	if c.Focused() != home.identifier.Entry {
		t.Fatalf("focus on %T, want the identifier", c.Focused())
	}
}

// TestMessageBodyCopiedByKeyboard: in "Messages envoyés", Tab reaches a
// message's body; Ctrl+A and Ctrl+C copy it; typing changes nothing.
func TestMessageBodyCopiedByKeyboard(t *testing.T) {
	h := newHarness(t)
	h.requestRenewal()
	h.Tap(h.ui.messagesButton)
	ob := screenAs[*outboxScreen](h)
	if len(ob.bodies) == 0 {
		t.Fatal("no message body")
	}
	c := h.Win.Canvas()
	body := ob.bodies[0]
	for n := 0; c.Focused() != body; n++ {
		if n > 30 {
			t.Fatal("Tab never reaches the message's body")
		}
		c.FocusNext()
	}
	before := body.Text
	test.Type(body, "xyz")
	screenstest.Key(body, fyne.KeyBackspace)
	body.TypedShortcut(&fyne.ShortcutPaste{Clipboard: h.App.Clipboard()})
	if body.Text != before {
		t.Fatal("the message's body can be changed")
	}
	body.TypedShortcut(&fyne.ShortcutSelectAll{})
	body.TypedShortcut(&fyne.ShortcutCopy{Clipboard: h.App.Clipboard()})
	if got := h.App.Clipboard().Content(); got != before || !strings.Contains(got, "Suite à votre demande") {
		t.Fatalf("copied %q", got)
	}
	// Tab leaves it.
	c.FocusNext()
	if c.Focused() == body {
		t.Fatal("Tab stays in the message's body")
	}
}
