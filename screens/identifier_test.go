package screens

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"consulvote/app/portal"
	"consulvote/resources"
	"consulvote/screens/screenstest"
	"consulvote/screens/ui"
)

// TestIdentifierGroupedAndSpelled: E6 shows the identifier in groups of
// four; "Épeler" spells it out group by group in the UI's language, and a
// screen reader gets it spelled; Copier, and Ctrl+C from the keyboard,
// copy the 12 characters without the spaces; typing changes nothing.
func TestIdentifierGroupedAndSpelled(t *testing.T) {
	for _, tc := range []struct {
		language string
		spelled  []string
		spell    string
		unspell  string
		spoken   string
	}{
		{"fr", []string{"hq67 : h minuscule, q minuscule, six, sept", "savG : s minuscule, a minuscule, v minuscule, G majuscule",
			"uH9Z : u minuscule, H majuscule, neuf, Z majuscule"}, "Épeler", "Masquer l'épellation",
			"Votre nouvel identifiant, épelé : hq67 : h minuscule, q minuscule, six, sept ; savG : "},
		{"en", []string{"hq67: lower-case h, lower-case q, six, seven", "savG: lower-case s, lower-case a, lower-case v, capital G",
			"uH9Z: lower-case u, capital H, nine, capital Z"}, "Spell it out", "Hide the spelling",
			"Your new identifier, spelled out: hq67: lower-case h, lower-case q, six, seven; savG: "},
	} {
		t.Run(tc.language, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.language); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			h := newHarness(t, func(o *Options) { o.Language = tc.language })
			s := newIdentifier(h.ui, portal.Renewal{Identifier: "hq67savGuH9Z", NUMIC: marie.NUMIC})
			h.ui.Show(s.page())
			h.See("hq67 savG uH9Z")
			for _, line := range tc.spelled {
				h.NotSee(line)
			}
			if s.spell.Text != tc.spell {
				t.Errorf("spell button %q, want %q", s.spell.Text, tc.spell)
			}
			screenstest.Key(s.spell, fyne.KeyReturn)
			for _, line := range tc.spelled {
				h.See(line)
			}
			if s.spell.Text != tc.unspell || s.spell.AccessibilityLabel() != tc.unspell {
				t.Errorf("spell button %q once spelled, want %q", s.spell.Text, tc.unspell)
			}
			if got := s.identifier.AccessibilityLabel(); !strings.HasPrefix(strings.ReplaceAll(got, " ; ", "; "), strings.ReplaceAll(tc.spoken, " ; ", "; ")) {
				t.Errorf("screen readers get %q, want it spelled (%q…)", got, tc.spoken)
			}
			h.Tap(s.copyBtn)
			if got := h.App.Clipboard().Content(); got != "hq67savGuH9Z" {
				t.Fatalf("Copier copied %q", got)
			}

			// The keyboard: Tab reaches it; typing changes nothing; Ctrl+C
			// copies without the spaces, all of it or the selection.
			h.App.Clipboard().SetContent("")
			c := h.Win.Canvas()
			c.Focus(s.home)
			for n := 0; c.Focused() != s.identifier; n++ {
				if n > 20 {
					t.Fatal("Tab never reaches the identifier")
				}
				c.FocusNext()
			}
			test.Type(s.identifier, "x")
			screenstest.Key(s.identifier, fyne.KeyBackspace)
			s.identifier.TypedShortcut(&fyne.ShortcutPaste{Clipboard: h.App.Clipboard()})
			if s.identifier.Text != "hq67 savG uH9Z" {
				t.Fatalf("the identifier became %q", s.identifier.Text)
			}
			s.identifier.TypedShortcut(&fyne.ShortcutCopy{Clipboard: h.App.Clipboard()})
			if got := h.App.Clipboard().Content(); got != "hq67savGuH9Z" {
				t.Fatalf("Ctrl+C copied %q", got)
			}
			s.identifier.TypedShortcut(&fyne.ShortcutSelectAll{})
			s.identifier.TypedShortcut(&fyne.ShortcutCopy{Clipboard: h.App.Clipboard()})
			if got := h.App.Clipboard().Content(); got != "hq67savGuH9Z" {
				t.Fatalf("Ctrl+A, Ctrl+C copied %q", got)
			}
			if !s.kept {
				t.Error("copied by the keyboard, yet leaving would still warn")
			}
		})
	}
}

// confusables are the look-alikes the identifier's face must tell apart:
// 0 and O (and o), 1 and l and I.
var confusables = []string{"0O", "0o", "1l", "1I", "lI"}

// glyph is a character drawn black on white: its ink, cropped to its
// bounding box.
type glyph struct {
	ink  [][]bool
	w, h int
}

func drawGlyph(t *testing.T, ch string, style fyne.TextStyle, size float32) glyph {
	t.Helper()
	txt := canvas.NewText(ch, color.Black)
	txt.TextStyle, txt.TextSize = style, size
	txt.Move(fyne.NewPos(size/2, size/2))
	txt.Resize(txt.MinSize())
	bg := canvas.NewRectangle(color.White)
	bg.Resize(fyne.NewSize(3*size, 3*size))
	w := test.NewTempWindow(t, container.NewWithoutLayout(bg, txt))
	w.SetPadded(false)
	w.Resize(fyne.NewSize(3*size, 3*size))
	img := w.Canvas().Capture()
	b := img.Bounds()
	x0, y0, x1, y1 := b.Max.X, b.Max.Y, -1, -1
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if inked(img, x, y) {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		t.Fatalf("%q drew nothing", ch)
	}
	g := glyph{w: x1 - x0 + 1, h: y1 - y0 + 1}
	for y := y0; y <= y1; y++ {
		row := make([]bool, g.w)
		for x := x0; x <= x1; x++ {
			row[x-x0] = inked(img, x, y)
		}
		g.ink = append(g.ink, row)
	}
	return g
}

func inked(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return (r+g+b)/3 < 0x8000
}

// at is the ink at (x, y) of the glyph stretched to w×h: shapes compared
// whatever their size.
func (g glyph) at(x, y, w, h int) bool { return g.ink[y*g.h/h][x*g.w/w] }

// shapeDistance is the share of two glyphs' ink that differs once both
// are stretched to the same box: 0 for the same shape, 1 for nothing in
// common. Size does not count (C and c are the same shape).
func shapeDistance(a, b glyph) float64 {
	const w, h = 24, 36
	both, either := 0, 0
	for y := range h {
		for x := range w {
			pa, pb := a.at(x, y, w, h), b.at(x, y, w, h)
			if pa || pb {
				either++
			}
			if pa && pb {
				both++
			}
		}
	}
	return 1 - float64(both)/float64(either)
}

// markedCentre reports whether the glyph has ink in the middle of its
// box, as a dotted or slashed zero has and an O has not.
func (g glyph) markedCentre() bool {
	const w, h = 24, 36
	for y := h * 2 / 5; y < h*3/5; y++ {
		for x := w * 2 / 5; x < w*3/5; x++ {
			if g.at(x, y, w, h) {
				return true
			}
		}
	}
	return false
}

// topLean is how much a glyph's top rows lean to one side of its box:
// -1 all on the left, 0 balanced, 1 all on the right. A 1's flag points
// left; an I's top bar reaches both ways.
func (g glyph) topLean() float64 {
	var left, right float64
	for y := 0; y < max(g.h/6, 2); y++ {
		for x, ink := range g.ink[y] {
			switch {
			case !ink:
			case 2*x < g.w-1:
				left++
			case 2*x > g.w-1:
				right++
			}
		}
	}
	if left+right == 0 {
		return 0
	}
	return (right - left) / (right + left)
}

// tellApart says what tells two look-alikes apart, or "": a zero marked
// in its middle beside an O or an o that is not (their outlines differ in
// width only, which the eye mistakes); a 1 whose top leans to one side
// beside an I whose top is balanced; otherwise shapes that differ by a
// quarter of their ink or more once stretched to the same box.
func tellApart(a, b glyph, pair string) string {
	switch pair {
	case "0O", "0o":
		if a.markedCentre() && !b.markedCentre() {
			return "marked zero"
		}
		return ""
	case "1I":
		if d := math.Abs(a.topLean() - b.topLean()); d >= 0.3 {
			return fmt.Sprintf("tops lean %+.1f and %+.1f", a.topLean(), b.topLean())
		}
		return ""
	}
	if d := shapeDistance(a, b); d >= 0.25 {
		return fmt.Sprintf("shapes differ by %.0f %%", 100*d)
	}
	return ""
}

// TestIdentifierFontTellsConfusablesApart draws 0, O, o, 1, l and I in
// the identifier's face, at its size and at others around it (so that no
// lucky size passes), and checks that something visible tells each pair
// apart. The app's proportional face, used for the rest of the text, fails
// the check for 0 and O: it can fail.
func TestIdentifierFontTellsConfusablesApart(t *testing.T) {
	test.NewTempApp(t)
	test.ApplyTheme(t, ui.Theme{})
	mono := fyne.TextStyle{Monospace: true}
	for _, size := range []float32{24, 28, identifierTextSize, 40, 48} {
		for _, p := range confusables {
			a, b := drawGlyph(t, p[:1], mono, size), drawGlyph(t, p[1:], mono, size)
			why := tellApart(a, b, p)
			t.Logf("%.0f %s: %s", size, p, why)
			if why == "" {
				t.Errorf("at %.0f, %q and %q look alike in the identifier's face (shapes differ by %.0f %%, tops lean %+.1f and %+.1f)",
					size, p[:1], p[1:], 100*shapeDistance(a, b), a.topLean(), b.topLean())
			}
		}
	}
	sans := fyne.TextStyle{}
	if why := tellApart(drawGlyph(t, "0", sans, identifierTextSize), drawGlyph(t, "O", sans, identifierTextSize), "0O"); why != "" {
		t.Errorf("the proportional face's 0 and O told apart (%s): the check cannot fail", why)
	}
}
