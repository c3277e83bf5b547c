package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Choice is a drop-down list the keyboard drives (arrows choose, Space
// opens the list), with the app's focus ring and Escape going back.
type Choice struct {
	widget.Select
	focused  bool
	onEscape func()
	// label names the list for screen readers (its visible label).
	label string
	// onFocus scrolls the page to show the list.
	onFocus func(fyne.CanvasObject)
}

// Choice is a list of options named label, on the page.
func (n *Nav) Choice(label string, options []string) *Choice {
	c := &Choice{onEscape: n.Escape, label: label, onFocus: func(o fyne.CanvasObject) { n.Reveal(o) }}
	c.Options = options
	c.PlaceHolder = label
	c.ExtendBaseWidget(c)
	return c
}

// AccessibilityLabel implements fyne.Accessible: the list's label, and
// what is chosen.
func (c *Choice) AccessibilityLabel() string {
	if c.Selected == "" {
		return c.label
	}
	return c.label + " : " + c.Selected
}

// AccessibilityRole implements fyne.Accessible. Fyne 2.8 has no role for
// a list to choose from; a button, which opens it, is the nearest.
func (c *Choice) AccessibilityRole() fyne.AccessibleRole { return fyne.AccessibleRoleButton }

// CreateRenderer implements fyne.Widget.
func (c *Choice) CreateRenderer() fyne.WidgetRenderer {
	return newRingRenderer(c, c.Select.CreateRenderer(), func() bool { return c.focused })
}

// FocusGained implements fyne.Focusable.
func (c *Choice) FocusGained() {
	// Not Fyne's mark, the theme's focus colour as a background, which
	// the placeholder would not read on (see Button.FocusGained).
	c.focused = true
	c.Refresh()
	c.onFocus(c)
}

// FocusLost implements fyne.Focusable.
func (c *Choice) FocusLost() {
	c.focused = false
	c.Select.FocusLost()
}

// TypedKey implements fyne.Focusable.
func (c *Choice) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && c.onEscape != nil {
		c.onEscape()
		return
	}
	c.Select.TypedKey(k)
}
