package screens

import (
	"os"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// foldingLayout lays the toolbar out on one line: the app's icon and
// name on the left, its buttons on the right. When the window is too
// narrow for them (a small screen, or text enlarged to 150 or 200 %), the
// buttons fold into a "Menu" button that opens them as a menu, and then
// the name goes too: the window's minimum width is that of the icon and
// the menu.
type foldingLayout struct {
	icon, name fyne.CanvasObject
	items      []*button
	menu       *button
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

// toolbarMenu opens the folded toolbar's buttons as a menu under menu.
func (u *UI) toolbarMenu(menu *button, items []*button) {
	var entries []*fyne.MenuItem
	for _, b := range items {
		entries = append(entries, fyne.NewMenuItem(b.label, b.OnTapped))
	}
	u.foldedMenu = fyne.NewMenu("", entries...)
	m := widget.NewPopUpMenu(u.foldedMenu, u.win.Canvas())
	m.ShowAtRelativePosition(fyne.NewPos(0, menu.Size().Height), menu)
}

func (u *UI) newMenuButton() *button {
	return u.button(lang.L("toolbar.menu"), theme.MenuIcon(), nil)
}

// FitWindow sizes w by WindowSize for the scale it is drawn at, once
// shown: the user's scale times the screen's (its density), which only
// the shown window knows.
func FitWindow(w fyne.Window) { w.Resize(WindowSize(w.Canvas().Scale())) }

// UserScale is the scale the user asked for, as Fyne reads it: FYNE_SCALE,
// else the app's settings, else 1.
func UserScale(a fyne.App) float32 {
	if v, err := strconv.ParseFloat(os.Getenv("FYNE_SCALE"), 32); err == nil && v > 0 {
		return float32(v)
	}
	if s := a.Settings().Scale(); s > 0 {
		return s
	}
	return 1
}

// WindowSize is the window's first size, in Fyne's units, for the user's
// scale (FYNE_SCALE; 1 when unset): at most 960×690 screen pixels, so
// that it fits a 1024×768 screen at 100 % and a 1366×768 one at 150 and
// 200 %. The pages scroll, and the toolbar folds, to fit it.
func WindowSize(scale float32) fyne.Size {
	if scale <= 0 {
		scale = 1
	}
	return fyne.NewSize(960/max(scale, 1), min(640, 690/scale))
}
