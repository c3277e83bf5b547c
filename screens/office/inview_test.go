package office

import (
	"consulvote/app/portal"
	"consulvote/app/service/servicetest"
	"consulvote/screens/screenstest"
	"consulvote/screens/ui"
	"context"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestFailedSubmitInView: at every scale, a failed submit of the agents'
// login leaves the focus on the field to correct, with that field and its
// message inside the visible part of the page, and the message in the
// field's name for screen readers.
func TestFailedSubmitInView(t *testing.T) {
	for _, scale := range screenstest.Scales {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			h, _ := newOfficeHarness(t)
			h.Win.Resize(screenstest.WindowAt(scale))
			h.Wait()
			h.ui.Open()
			l := screenAs[*officeLoginScreen](h)
			test.Type(l.name.Entry, "bob")
			h.Enter(l.password.Entry, "wrong")
			screenstest.AssertFailedInView(t, h.H, l.password, l.msg.Label)
		})
	}
}

// TestTabShowsWhatItReaches: in the page that scrolls most, the voter
// file down to its History, every stop of Tab, at 200 %, is scrolled into
// view (its top, for a text taller than the page), and the arrows read
// the History to its last line.
func TestTabShowsWhatItReaches(t *testing.T) {
	h, _ := newOfficeHarness(t)
	h.Win.Resize(screenstest.WindowAt(2))
	ctx := context.Background()
	for range 3 { // the voter's three requests, in the file's messages and History
		c, err := h.svc.Portal.NewSecurityCode(ctx)
		if err == nil {
			err = h.svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
				NUMIC: marie.NUMIC, Email: marie.Email, CodeID: c.ID, Code: servicetest.Code})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f := h.openFile("bob", marie.NUMIC)
	for range 3 { // a history longer than the page
		f.reason.Entry.SetText("appel de l'électrice")
		f.act(true)
		h.Wait()
	}
	if len(f.history.Objects) != 1 {
		t.Fatal("no History text")
	}
	history := f.history.Objects[0].(*ui.ReadOnlyText)
	screenstest.TabThrough(t, h.H)
	c := h.Win.Canvas()
	c.Focus(history)
	for range strings.Count(history.Text, "\n") + 20 {
		screenstest.Key(history, fyne.KeyDown)
	}
	// The last line is in view: the page's end.
	if got, want := h.ui.Scroll().Offset.Y, h.ui.Scroll().Content.Size().Height-h.ui.Scroll().Size().Height; got < want-1 {
		t.Fatalf("the arrows stopped scrolling at %.0f of %.0f", got, want)
	}
}
