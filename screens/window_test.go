package screens

import (
	"strings"
	"testing"

	"consulvote/screens/screenstest"
	"consulvote/screens/ui"

	"fyne.io/fyne/v2"
)

// TestEveryScreenFitsSmallWindows: no screen needs more than 683×384
// units — 1366×768 pixels at 200 %, so also 1024×768 at 100 % and
// 1366×768 at 150 % — and the first window size fits those screens.
func TestEveryScreenFitsSmallWindows(t *testing.T) {
	for _, language := range []string{"fr", "en"} {
		walkScreens(t, language, func(h *harness, name string) {
			if m := h.Win.Content().MinSize(); m.Width > 683 || m.Height > 384 {
				t.Errorf("%s, %s: needs %v", language, name, m)
			}
		})
	}
	for _, tc := range []struct {
		scale       float32
		screen      fyne.Size
		description string
	}{{1, fyne.NewSize(1024, 768), "1024×768 at 100 %"}, {1.5, fyne.NewSize(1366, 768), "1366×768 at 150 %"}, {2, fyne.NewSize(1366, 768), "1366×768 at 200 %"}} {
		s := WindowSize(tc.scale)
		// 40 pixels for the title bar, 30 for a task bar.
		if s.Width*tc.scale > tc.screen.Width || s.Height*tc.scale+70 > tc.screen.Height {
			t.Errorf("%s: the first window is %v units, %.0f×%.0f pixels", tc.description, s, s.Width*tc.scale, s.Height*tc.scale)
		}
	}
}

// TestToolbarFolds: in a narrow window the toolbar's buttons fold into a
// Menu button, reachable by Tab, whose menu holds them all.
func TestToolbarFolds(t *testing.T) {
	h, _ := newOfficeHarness(t)
	toolbar := []*ui.Button{h.ui.helpButton, h.ui.messagesButton, h.ui.officeButton, h.ui.settingsButton}
	h.Win.Resize(fyne.NewSize(1000, 700))
	h.Wait()
	for _, b := range toolbar {
		if !b.Visible() {
			t.Fatalf("%q folded in a wide window", b.Text)
		}
	}
	if h.ui.menuButton.Visible() {
		t.Fatal("a Menu button in a wide window")
	}
	h.Win.Resize(fyne.NewSize(420, 500))
	h.Wait()
	for _, b := range toolbar {
		if b.Visible() {
			t.Fatalf("%q still shown in a narrow window", b.Text)
		}
	}
	if !h.ui.menuButton.Visible() {
		t.Fatal("no Menu button in a narrow window")
	}
	c := h.Win.Canvas()
	c.Focus(h.ui.menuButton)
	screenstest.Key(h.ui.menuButton, fyne.KeyReturn)
	overlays := c.Overlays().List()
	if len(overlays) != 1 {
		t.Fatalf("%d overlays after Menu", len(overlays))
	}
	var items []string
	for _, it := range h.ui.foldedMenu.Items {
		items = append(items, it.Label)
	}
	if got := strings.Join(items, ", "); got != "Aide, Messages envoyés, Espace consulat, Paramètres" {
		t.Fatalf("the menu holds %s", got)
	}
	// The menu has the keyboard: Down then Enter opens "Aide".
	f := c.Focused()
	f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	screenAs[*helpScreen](h)
}
