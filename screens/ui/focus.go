package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// ringRenderer wraps a widget's renderer and draws the focus ring around
// it while it has the focus. Fyne's own marks (a tint of the button, the
// entry's border in the primary colour) are too faint on some widgets,
// 1.00:1 on a primary button; the ring is the same everywhere.
type ringRenderer struct {
	fyne.WidgetRenderer
	w       fyne.Widget
	ring    *canvas.Rectangle
	focused func() bool
}

func newRingRenderer(w fyne.Widget, inner fyne.WidgetRenderer, focused func() bool) *ringRenderer {
	r := &ringRenderer{WidgetRenderer: inner, w: w, ring: canvas.NewRectangle(nil), focused: focused}
	r.ring.StrokeWidth = focusRingWidth
	r.update()
	return r
}

func (r *ringRenderer) Objects() []fyne.CanvasObject {
	inner := r.WidgetRenderer.Objects()
	objs := make([]fyne.CanvasObject, 0, len(inner)+1)
	return append(append(objs, inner...), r.ring)
}

func (r *ringRenderer) Layout(size fyne.Size) {
	r.WidgetRenderer.Layout(size)
	off := float32(focusRingWidth) + 1
	r.ring.Move(fyne.NewPos(-off, -off))
	r.ring.Resize(size.AddWidthHeight(2*off, 2*off))
}

func (r *ringRenderer) Refresh() {
	r.update()
	r.WidgetRenderer.Refresh()
}

func (r *ringRenderer) update() {
	r.ring.FillColor = nil
	r.ring.StrokeColor = currentColor(r.w, ColorNameFocusRing)
	r.ring.CornerRadius = 4
	r.ring.Hidden = !r.focused()
	r.ring.Refresh()
}

// currentColor is the colour n of the theme w is drawn with.
func currentColor(w fyne.Widget, n fyne.ThemeColorName) color.Color {
	th := fyne.CurrentApp().Settings().Theme()
	if t, ok := w.(interface{ Theme() fyne.Theme }); ok {
		th = t.Theme()
	}
	return th.Color(n, fyne.CurrentApp().Settings().ThemeVariant())
}

// Button is a widget.Button that the keyboard can drive as on any
// desktop: Enter activates it as well as Space; Space acts when the key
// is released, so that the space it types is not sent on to the field
// that has the focus on the next page; Escape goes back, as from a field.
type Button struct {
	widget.Button
	// Label names an icon-only button for screen readers and tests.
	Label     string
	focused   bool
	spaceDown bool
	OnEscape  func()
	// OnFocus scrolls the page to show the button; nil off the page
	// (toolbar, dialogs).
	OnFocus func(fyne.CanvasObject)
}

// Button makes a button whose Escape goes back like the page's.
func (n *Nav) Button(text string, icon fyne.Resource, tapped func()) *Button {
	b := &Button{Label: text, OnEscape: n.Escape, OnFocus: func(o fyne.CanvasObject) { n.Reveal(o) }}
	b.Text, b.Icon, b.OnTapped = text, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// IconButton is a button that shows only its icon; label names it.
func (n *Nav) IconButton(label string, icon fyne.Resource, tapped func()) *Button {
	b := n.Button("", icon, tapped)
	b.Label = label
	return b
}

// CreateRenderer implements fyne.Widget.
func (b *Button) CreateRenderer() fyne.WidgetRenderer {
	return newRingRenderer(b, b.Button.CreateRenderer(), func() bool { return b.focused })
}

// FocusGained implements fyne.Focusable.
func (b *Button) FocusGained() {
	defer b.Refresh()
	// Not Fyne's own mark, a tint of the theme's focus colour, strong
	// enough for a menu's highlight (3:1) but not for text drawn on it:
	// the ring marks the focus.
	b.focused = true
	if b.OnFocus != nil {
		b.OnFocus(b)
	}
}

// FocusLost implements fyne.Focusable.
func (b *Button) FocusLost() {
	b.focused = false
	b.spaceDown = false
	b.Refresh()
}

// TypedKey implements fyne.Focusable.
func (b *Button) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		b.activate()
	case fyne.KeyEscape:
		if b.OnEscape != nil {
			b.OnEscape()
		}
	case fyne.KeySpace:
		// On release: see KeyUp.
	default:
		b.Button.TypedKey(k)
	}
}

// TypedRune implements fyne.Focusable: the space of Space stops here.
func (b *Button) TypedRune(rune) {}

// KeyDown implements desktop.Keyable.
func (b *Button) KeyDown(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace {
		b.spaceDown = true
	}
}

// KeyUp implements desktop.Keyable.
func (b *Button) KeyUp(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace && b.spaceDown {
		b.spaceDown = false
		b.activate()
	}
}

// AccessibilityLabel implements fyne.Accessible: the text, or what an
// icon-only button does, in the UI's language.
func (b *Button) AccessibilityLabel() string { return b.Label }

// activate runs the button's action as the keyboard asks for it. Not
// through Tapped: Fyne's takes the focus away first (the focus manager
// does not see a tap), and the next Tab would start again at the top of
// the page; the focus stays on the button, even while its action
// disables it, unless the action moves it.
func (b *Button) activate() {
	if !b.Disabled() && b.OnTapped != nil {
		b.OnTapped()
	}
}
