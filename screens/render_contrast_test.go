package screens

import (
	"fmt"
	"image"
	"image/color"
	"testing"
	"time"

	"consulvote/screens/ui"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// variantTheme is the app's theme held in one variant, whatever the
// system prefers.
type variantTheme struct {
	ui.Theme
	v fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.v)
}

// TestRenderedTextContrast draws every screen in the light and the dark
// variant, and for each text drawn compares its colour with the colour
// behind it in the picture (the commonest in the text's box): 4.5:1, or
// 3:1 for large text (24 units, or 18.67 bold).
func TestRenderedTextContrast(t *testing.T) {
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		walkScreens(t, "fr", func(h *harness, name string) {
			test.ApplyTheme(t, variantTheme{v: v}) // waits until every widget has it
			// Tall enough that nothing is scrolled out of the picture.
			h.Win.Resize(fyne.NewSize(760, 2600))
			h.Wait()
			// Fyne applies a theme to the widgets in the background: a
			// first picture may catch one half-way, so a failure is
			// measured again once everything has been redrawn.
			problems, checked := measureContrast(h)
			if len(problems) > 0 {
				time.Sleep(300 * time.Millisecond)
				problems, checked = measureContrast(h)
			}
			for _, p := range problems {
				t.Errorf("%s, %s: %s", variantName(v), name, p)
			}
			if checked < 3 {
				t.Errorf("%s, %s: only %d texts checked", variantName(v), name, checked)
			}
		})
	}
}

func refreshAll(o fyne.CanvasObject) {
	switch w := o.(type) {
	case *fyne.Container:
		for _, c := range w.Objects {
			refreshAll(c)
		}
	case fyne.Widget:
		w.Refresh()
		for _, c := range test.WidgetRenderer(w).Objects() {
			refreshAll(c)
		}
	}
}

type placedText struct {
	text *canvas.Text
	pos  fyne.Position
}

// textsIn lists the visible texts under o, with their position in the
// window (o being at pos).
func textsIn(o fyne.CanvasObject, pos fyne.Position) []placedText {
	if o == nil || !o.Visible() {
		return nil
	}
	pos = pos.Add(o.Position())
	var out []placedText
	switch w := o.(type) {
	case *canvas.Text:
		out = append(out, placedText{w, pos})
	case *fyne.Container:
		for _, c := range w.Objects {
			out = append(out, textsIn(c, pos)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(w).Objects() {
			out = append(out, textsIn(c, pos)...)
		}
	}
	return out
}

// measureContrast draws the window and checks each text against what is
// behind it; it returns the texts below their ratio and how many it
// checked. With a dialog up, the page behind it is inert and dimmed: only
// the dialog's texts count.
func measureContrast(h *harness) (problems []string, checked int) {
	refreshAll(h.Win.Content())
	for _, o := range h.Win.Canvas().Overlays().List() {
		refreshAll(o)
	}
	img := h.Win.Canvas().Capture()
	top := h.Win.Content()
	if ov := h.Win.Canvas().Overlays().Top(); ov != nil {
		top = ov
	}
	for _, pt := range textsIn(top, fyne.Position{}) {
		txt, pos := pt.text, pt.pos
		if len([]rune(txt.Text)) < 2 {
			continue
		}
		box := image.Rect(int(pos.X), int(pos.Y), int(pos.X+txt.Size().Width), int(pos.Y+txt.Size().Height)).Intersect(img.Bounds())
		if box.Empty() {
			continue
		}
		bg := commonest(img, box)
		min := 4.5
		if txt.TextSize >= 24 || (txt.TextStyle.Bold && txt.TextSize >= 18.67) {
			min = 3
		}
		if r := contrast(opaque(txt.Color, bg), bg); r < min {
			problems = append(problems, fmt.Sprintf("%q is %.2f:1 (%v on %v), want %.1f:1", txt.Text, r, txt.Color, bg, min))
		}
		checked++
	}
	return problems, checked
}

// commonest is the most frequent colour in box of img.
func commonest(img image.Image, box image.Rectangle) color.Color {
	count := map[color.NRGBA]int{}
	var best color.NRGBA
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			count[c]++
			if count[c] > count[best] {
				best = c
			}
		}
	}
	return best
}

// opaque paints c over bg, for text colours with transparency.
func opaque(c, bg color.Color) color.Color {
	if c == nil {
		return bg
	}
	return over(bg, c)
}
