package screens

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"consulvote/screens/ui"
)

// choice is a drop-down list the keyboard drives (arrows choose, Space
// opens the list), with the app's focus ring and Escape going back.
type choice struct {
	widget.Select
	focused  bool
	onEscape func()
	// label names the list for screen readers (its visible label).
	label string
	// onFocus scrolls the page to show the list.
	onFocus func(fyne.CanvasObject)
}

func (u *UI) newChoice(label string, options []string) *choice {
	c := &choice{onEscape: u.Escape, label: label, onFocus: func(o fyne.CanvasObject) { u.Reveal(o) }}
	c.Options = options
	c.PlaceHolder = label
	c.ExtendBaseWidget(c)
	return c
}

// AccessibilityLabel implements fyne.Accessible: the list's label, and
// what is chosen.
func (c *choice) AccessibilityLabel() string {
	if c.Selected == "" {
		return c.label
	}
	return c.label + " : " + c.Selected
}

// AccessibilityRole implements fyne.Accessible. Fyne 2.8 has no role for
// a list to choose from; a button, which opens it, is the nearest.
func (c *choice) AccessibilityRole() fyne.AccessibleRole { return fyne.AccessibleRoleButton }

// CreateRenderer implements fyne.Widget.
func (c *choice) CreateRenderer() fyne.WidgetRenderer {
	return ui.NewRingRenderer(c, c.Select.CreateRenderer(), func() bool { return c.focused })
}

// FocusGained implements fyne.Focusable.
func (c *choice) FocusGained() {
	// Not Fyne's mark, the theme's focus colour as a background, which
	// the placeholder would not read on (see button.FocusGained).
	c.focused = true
	c.Refresh()
	c.onFocus(c)
}

// FocusLost implements fyne.Focusable.
func (c *choice) FocusLost() {
	c.focused = false
	c.Select.FocusLost()
}

// TypedKey implements fyne.Focusable.
func (c *choice) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && c.onEscape != nil {
		c.onEscape()
		return
	}
	c.Select.TypedKey(k)
}
