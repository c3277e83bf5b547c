package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// Reveal scrolls the page so that objs (parts of one thing on the page,
// top to bottom) are in view: the keyboard's focus must never land out of
// sight. When they do not all fit, the first ones give way: a field's
// label before the field and its message.
func (n *Nav) Reveal(objs ...fyne.CanvasObject) {
	if n.scroll == nil || n.scroll.Content == nil || len(objs) == 0 {
		return
	}
	n.settle()
	revealIn(n.scroll, objs...)
}

// RevealLines scrolls the page so that height units of o from top are in
// view (a text's lines).
func (n *Nav) RevealLines(o fyne.CanvasObject, top, height float32) {
	if n.scroll == nil || n.scroll.Content == nil {
		return
	}
	n.settle()
	p, ok := positionIn(n.scroll.Content, o)
	if !ok {
		return
	}
	scrollToShow(n.scroll, p.Y+top, p.Y+top+height)
}

// revealIn scrolls s so that objs, inside its content, are in view (see
// reveal).
func revealIn(s *container.Scroll, objs ...fyne.CanvasObject) {
	type span struct{ top, bottom float32 }
	var spans []span
	for _, o := range objs {
		if p, ok := positionIn(s.Content, o); ok && o.Visible() {
			spans = append(spans, span{p.Y, p.Y + o.Size().Height})
		}
	}
	if len(spans) == 0 {
		return
	}
	view, pad := s.Size().Height, theme.Padding()
	var top, bottom float32
	for _, sp := range spans {
		top, bottom = sp.top, spans[len(spans)-1].bottom
		if bottom-top+2*pad <= view {
			break
		}
	}
	scrollToShow(s, top, bottom)
}

// scrollToShow scrolls s as little as shows its content from top to
// bottom, or from top when that is taller than s.
func scrollToShow(s *container.Scroll, top, bottom float32) {
	view, pad := s.Size().Height, theme.Padding()
	switch {
	case top-pad < s.Offset.Y:
		s.ScrollToOffset(fyne.NewPos(s.Offset.X, max(top-pad, 0)))
	case bottom+pad > s.Offset.Y+view:
		s.ScrollToOffset(fyne.NewPos(s.Offset.X, min(bottom+pad-view, top-pad)))
	}
}

// positionIn is where o lies inside root. The driver's own answer is
// (0, 0) for an object not drawn yet (an error just shown), so the
// containers are walked; inside a widget (the show/hide button of a
// password), the driver's answer is taken: it has been drawn.
func positionIn(root, o fyne.CanvasObject) (fyne.Position, bool) {
	if root == o {
		return fyne.Position{}, true
	}
	if c, ok := root.(*fyne.Container); ok {
		for _, child := range c.Objects {
			if p, ok := positionIn(child, o); ok {
				return p.Add(child.Position()), true
			}
		}
		return fyne.Position{}, false
	}
	if w, ok := root.(fyne.Widget); ok && o != nil {
		d := fyne.CurrentApp().Driver()
		if d.CanvasForObject(o) != nil && d.CanvasForObject(w) != nil {
			if p := d.AbsolutePositionForObject(o).Subtract(d.AbsolutePositionForObject(w)); p.X >= 0 && p.Y >= 0 && p.X < w.Size().Width && p.Y < w.Size().Height {
				return p, true
			}
		}
	}
	return fyne.Position{}, false
}

// settle lays the page out now, as the next frame would, so that what
// was just shown or hidden has its place before the page scrolls to it.
func (n *Nav) settle() {
	c := n.scroll.Content
	size := n.scroll.Size()
	c.Resize(fyne.NewSize(max(c.MinSize().Width, size.Width), max(c.MinSize().Height, size.Height)))
	relayout(c)
}

func relayout(o fyne.CanvasObject) {
	c, ok := o.(*fyne.Container)
	if !ok {
		return
	}
	if c.Layout != nil {
		c.Layout.Layout(c.Objects, c.Size())
	}
	for _, o := range c.Objects {
		relayout(o)
	}
}
