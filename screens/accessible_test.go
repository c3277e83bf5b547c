package screens

import (
	"consulvote/screens/screenstest"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// interactive reports whether the user can act on o. Fyne's chrome that
// only a mouse uses (scroll bars, a dialog's backdrop) is left out: the
// keyboard never reaches it and a screen reader has nothing to say of it.
func interactive(o fyne.CanvasObject) bool {
	switch t := fmtType(o); {
	case strings.Contains(t, "scrollBar"), t == "*widget.OverlayContainer", t == "*widget.PopUp":
		return false
	}
	if _, ok := o.(fyne.Focusable); ok {
		return true
	}
	_, ok := o.(fyne.Tappable)
	return ok
}

// unlabelled returns a description of each interactive object under o
// that does not tell a screen reader what it is: not fyne.Accessible, or
// with an empty label, an icon's file name or a raw translation key, or
// the container role.
func unlabelled(o fyne.CanvasObject, inside string) []string {
	if o == nil || !o.Visible() {
		return nil
	}
	var bad []string
	if interactive(o) {
		a, ok := o.(fyne.Accessible)
		switch {
		case !ok:
			bad = append(bad, inside+" > "+typeName(o)+": not fyne.Accessible")
		case a.AccessibilityRole() == fyne.AccessibleRoleContainer:
			bad = append(bad, inside+" > "+typeName(o)+": role container")
		default:
			l := strings.TrimSpace(a.AccessibilityLabel())
			if l == "" || strings.HasSuffix(l, ".svg") || strings.HasSuffix(l, ".png") || screenstest.RawKey.MatchString(l) {
				bad = append(bad, inside+" > "+typeName(o)+": label "+`"`+l+`"`)
			}
		}
	}
	switch w := o.(type) {
	case *fyne.Container:
		for _, c := range w.Objects {
			bad = append(bad, unlabelled(c, inside)...)
		}
	case *widget.Label:
		// Its selectable text is the label's own, which is Accessible.
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(w).Objects() {
			bad = append(bad, unlabelled(c, inside+" > "+typeName(o))...)
		}
	}
	return bad
}

func typeName(o fyne.CanvasObject) string {
	if a, ok := o.(fyne.Accessible); ok && a.AccessibilityLabel() != "" {
		return strings.TrimPrefix(strings.TrimPrefix(fmtType(o), "*"), "screens.") + "(" + a.AccessibilityLabel() + ")"
	}
	return strings.TrimPrefix(fmtType(o), "*")
}

// TestEveryInteractiveObjectLabelled walks every screen in both languages
// and fails on an interactive object a screen reader could not name.
func TestEveryInteractiveObjectLabelled(t *testing.T) {
	for _, language := range []string{"fr", "en"} {
		walkScreens(t, language, func(h *harness, name string) {
			objs := []fyne.CanvasObject{h.Win.Content()}
			objs = append(objs, h.Win.Canvas().Overlays().List()...)
			for _, o := range objs {
				for _, b := range unlabelled(o, name) {
					t.Errorf("%s: %s", language, b)
				}
			}
		})
	}
}

func fmtType(o any) string { return strings.ReplaceAll(fmt.Sprintf("%T", o), "fyne.io/fyne/v2/", "") }
