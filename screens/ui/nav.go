// Package ui is what every screen is drawn with, whoever its audience:
// the navigator (one page at a time, a way back, Escape, questions), the
// widgets the keyboard drives with a visible focus ring and labels for
// screen readers, the form's error summary, the theme with its checked
// contrasts, the folding toolbar, the tree that presents the window to
// screen readers, and the calls that run work off the UI goroutine. The
// voter's screens (package screens) and the office's (screens/office)
// are drawn with it. It knows Fyne and nothing of the portal.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Page is one screen as the navigator shows it.
type Page struct {
	Title   string
	Content fyne.CanvasObject
	Focus   fyne.Focusable // focused when the page is shown
	Screen  any            // the screen's struct, for tests and the toolbar
	// Leave, when set, is asked before the page is left and calls
	// proceed if the user agrees.
	Leave func(proceed func())
	// Left, when set, is called once the page is off the navigator's
	// stack, never to be shown again: the screen lets go of what it
	// holds that is large. Fyne keeps the widgets of a page left for a
	// minute or more (its renderer cache), and through their callbacks
	// the screen.
	Left func()
}

// Nav shows one page at a time in a window, with a way back, and makes
// the widgets that scroll it and go back with Escape.
type Nav struct {
	win  fyne.Window
	home func() *Page // the first page, shown by Home

	stack []*Page
	body  *fyne.Container
	// scroll scrolls the page shown.
	scroll *container.Scroll
	// BackButton is the page's "Retour" (nil on the first page).
	BackButton *Button
	// Summary lists, at the top of the page, the fields to correct.
	Summary *Message
	// question is the dialog open, if any: Escape closes it.
	question dialog.Dialog
}

// NewNav returns a navigator for w whose first page is home; Body is
// where it shows the pages.
func NewNav(w fyne.Window, home func() *Page) *Nav {
	return &Nav{win: w, home: home, body: container.NewStack()}
}

// Body is the container the pages are shown in.
func (n *Nav) Body() *fyne.Container { return n.body }

// Scroll is the scroller of the page shown.
func (n *Nav) Scroll() *container.Scroll { return n.scroll }

// Depth is the number of pages on the stack.
func (n *Nav) Depth() int { return len(n.stack) }

// Escape closes the question shown, which keeps the page (the safe
// choice), or else goes back.
func (n *Nav) Escape() {
	if n.question != nil {
		n.question.Hide()
		return
	}
	n.Back()
}

// Ask shows a question with two answers: stay, the safe one, which is
// the default (focused, highlighted, and Escape's), and leave.
func (n *Nav) Ask(title, text, stayLabel, leaveLabel string, onLeave func()) {
	if n.question != nil {
		return
	}
	stay := n.Button(stayLabel, nil, nil)
	stay.Importance = widget.HighImportance
	leave := n.Button(leaveLabel, nil, nil)
	stay.OnFocus, leave.OnFocus = nil, nil // in the dialog, not on the page
	d := dialog.NewCustomWithoutButtons(title, Wrapped(text), n.win)
	stay.OnTapped = d.Hide
	leave.OnTapped = func() {
		d.Hide()
		onLeave()
	}
	d.SetButtons([]fyne.CanvasObject{stay, leave})
	// Closed, the question gives the focus back to what had it (the
	// button that asked), if still on the page.
	prev := n.win.Canvas().Focused()
	d.SetOnClosed(func() {
		n.question = nil
		if o, ok := prev.(fyne.CanvasObject); ok && n.win.Canvas().Focused() == nil && n.OnPage(o) {
			n.win.Canvas().Focus(prev)
		}
	})
	n.question = d
	d.Show()
	n.win.Canvas().Focus(stay)
}

// Show pushes p and displays it.
func (n *Nav) Show(p *Page) {
	n.stack = append(n.stack, p)
	n.display()
}

// Back returns to the previous page, if the current one lets it.
func (n *Nav) Back() {
	if len(n.stack) < 2 {
		return
	}
	n.LeaveTop(func() {
		n.drop(len(n.stack) - 1)
		n.display()
	})
}

// Home forgets the stack and shows the first page.
func (n *Nav) Home() {
	n.LeaveTop(func() {
		n.drop(0)
		n.Show(n.home())
	})
}

// Replace swaps the current page for p (a step that must not be
// returned to, like a spent form).
func (n *Nav) Replace(p *Page) {
	if len(n.stack) > 0 {
		n.drop(len(n.stack) - 1)
	}
	n.Show(p)
}

// drop takes the pages from the i-th up off the stack, and tells them.
func (n *Nav) drop(i int) {
	left := n.stack[i:]
	n.stack = n.stack[:i:i]
	for _, p := range left {
		if p.Left != nil {
			p.Left()
		}
	}
}

// LeaveTop calls proceed once the page shown lets the user leave it.
func (n *Nav) LeaveTop(proceed func()) {
	if len(n.stack) > 0 && n.stack[len(n.stack)-1].Leave != nil {
		n.stack[len(n.stack)-1].Leave(proceed)
		return
	}
	proceed()
}

// Top is the page shown, nil before the first.
func (n *Nav) Top() *Page {
	if len(n.stack) == 0 {
		return nil
	}
	return n.stack[len(n.stack)-1]
}

func (n *Nav) display() {
	p := n.Top()
	n.win.SetTitle(lang.X("window.title", "{{.Page}} – consulvote", map[string]any{"Page": p.Title}))
	n.BackButton = nil
	n.Summary = NewMessage()
	var head []fyne.CanvasObject
	if len(n.stack) > 1 {
		// A visible way back on every page but the first.
		n.BackButton = n.Button(lang.L("common.back"), theme.NavigateBackIcon(), n.Back)
		n.BackButton.Importance = widget.LowImportance
		head = append(head, container.NewHBox(n.BackButton))
	}
	head = append(head, n.Summary.Label)
	content := container.NewBorder(container.NewVBox(head...), nil, nil, nil, p.Content)
	n.scroll = container.NewVScroll(container.NewPadded(content))
	n.body.Objects = []fyne.CanvasObject{n.scroll}
	n.body.Refresh()
	switch {
	case p.Focus != nil:
		n.win.Canvas().Focus(p.Focus)
	case n.BackButton != nil:
		n.win.Canvas().Focus(n.BackButton)
	}
}

// OnPage reports whether o is laid out in the page shown, by its
// containers.
func (n *Nav) OnPage(o fyne.CanvasObject) bool {
	p := n.Top()
	return p != nil && Contains(p.Content, o)
}

// Contains reports whether o is root or inside its containers.
func Contains(root, o fyne.CanvasObject) bool {
	if root == o {
		return true
	}
	if c, ok := root.(*fyne.Container); ok {
		for _, child := range c.Objects {
			if Contains(child, o) {
				return true
			}
		}
	}
	return false
}
