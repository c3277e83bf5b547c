package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// Folding is the toolbar: the app's icon and name, its menu button and
// its items, laid out by foldingLayout.
func Folding(icon, name fyne.CanvasObject, menu *Button, items []*Button) *fyne.Container {
	l := &foldingLayout{icon: icon, name: name, items: items, menu: menu}
	objs := []fyne.CanvasObject{icon, name, menu}
	for _, b := range items {
		objs = append(objs, b)
	}
	return container.New(l, objs...)
}

// foldingLayout lays the toolbar out on one line: the app's icon and
// name on the left, its buttons on the right. When the window is too
// narrow for them (a small screen, or text enlarged to 150 or 200 %), the
// buttons fold into a "Menu" button that opens them as a menu, and then
// the name goes too: the window's minimum width is that of the icon and
// the menu.
type foldingLayout struct {
	icon, name fyne.CanvasObject
	items      []*Button
	menu       *Button
}

func (l *foldingLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	w := l.icon.MinSize().Width + pad + l.menu.MinSize().Width
	h := max(l.icon.MinSize().Height, l.menu.MinSize().Height)
	for _, b := range l.items {
		h = max(h, b.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}

func (l *foldingLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	full := float32(0)
	for _, b := range l.items {
		full += b.MinSize().Width + pad
	}
	left := l.icon.MinSize().Width + pad
	fold := left+l.name.MinSize().Width+pad+full > size.Width
	place := func(o fyne.CanvasObject, x float32) {
		m := o.MinSize()
		o.Resize(fyne.NewSize(m.Width, size.Height))
		o.Move(fyne.NewPos(x, 0))
	}
	place(l.icon, 0)
	x := size.Width
	if fold {
		for _, b := range l.items {
			b.Hide()
		}
		l.menu.Show()
		x -= l.menu.MinSize().Width
		place(l.menu, x)
	} else {
		l.menu.Hide()
		for i := len(l.items) - 1; i >= 0; i-- {
			b := l.items[i]
			b.Show()
			x -= b.MinSize().Width
			place(b, x)
			x -= pad
		}
	}
	l.name.Show()
	if left+l.name.MinSize().Width > x {
		l.name.Hide()
	}
	place(l.name, left)
}
