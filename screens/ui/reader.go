package ui

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// What Fyne 2.8.1 gives screen readers, and how every page reaches them.
//
// Built with -tags accessibility, Fyne 2.8.1 walks the window after each
// frame and hands the objects that implement fyne.Accessible to UI
// Automation on Windows (internal/driver/glfw/accessibility_windows.go)
// and to NSAccessibility on macOS (accessibility_darwin.go). Both walks go
// down *fyne.Container only: the inside of a widget, the content of a
// container.Scroll and the dialogs (an overlay is a widget) are never
// reached (fyne-io/fyne#6491). Every page scrolls: none of it would be.
//
// So the window's real content is put inside a widget, where those walks
// stop, and beside it sits a container without layout holding proxies:
// one per object a screen reader must know, with its label, its role and
// where it is on the screen. The walks reach the proxies; a hook just
// before them rebuilds them from the real content each time a walk passes
// (ReaderTree.rebuild), so they follow the page, its scrolling, and the
// dialog shown. The proxies draw nothing and take no input.
//
// The two bridges are used differently, so the proxies are not listed in
// the same way:
//   - Narrator (Windows): the bridge keeps its own focus in a flat list and
//     moves it one element on Tab, without looking at the app's focus. The
//     list is therefore what Tab reaches, in Fyne's focus order, starting
//     after the focused object (FocusOrder): after a page appears, each Tab
//     names the object it really focuses. Texts that Tab does not reach
//     are not listed (they would shift the count); a field's error is in
//     its name.
//   - VoiceOver (macOS): the reader moves through the tree with its own
//     keys; every text and interactive object is listed in reading order
//     (ReadingOrder).

// ReaderOrder is how the proxies are listed.
type ReaderOrder int

const (
	// ReaderOff lists nothing: no bridge walks the window (Linux, or a
	// build without -tags accessibility).
	ReaderOff ReaderOrder = iota
	// ReadingOrder lists every text and interactive object, in the
	// page's order.
	ReadingOrder
	// FocusOrder lists what Tab reaches, in Fyne's focus order, from the
	// object after the focused one.
	FocusOrder
)

// ReaderTree presents a window's content to screen readers.
type ReaderTree struct {
	canvas  fyne.Canvas
	order   ReaderOrder
	hidden  *readerHidden
	hook    *readerHook
	box     *fyne.Container // the proxies
	proxies []*readerProxy  // reused from one rebuild to the next
	// anchor is, in FocusOrder, the object the list starts after; shape is
	// the list it was chosen for (labels and roles in focus order). The
	// anchor stays while the shape does: Windows' reader counts on a list
	// that does not change under it while Tab moves.
	anchor   fyne.CanvasObject
	shape    string
	building bool
}

// NewReaderTree returns the object to show in c in place of content, with
// the proxies listed as the platform's bridge walks them.
func NewReaderTree(c fyne.Canvas, content fyne.CanvasObject) (*ReaderTree, fyne.CanvasObject) {
	t := &ReaderTree{canvas: c, order: platformReaderOrder, box: container.NewWithoutLayout()}
	t.hidden = &readerHidden{content: content}
	t.hidden.ExtendBaseWidget(t.hidden)
	t.hook = &readerHook{tree: t}
	return t, container.NewStack(t.hidden, t.hook, t.box)
}

// SetOrder lists the proxies in order from the next walk on, as for a
// new page (the tests serve each platform's bridge on every system).
func (t *ReaderTree) SetOrder(order ReaderOrder) {
	t.order, t.shape = order, ""
}

// Rebuild rebuilds the proxies from the content now, as before a walk,
// and returns how many there are.
func (t *ReaderTree) Rebuild() int {
	t.rebuild()
	return len(t.box.Objects)
}

// Content is the real content the tree presents.
func (t *ReaderTree) Content() fyne.CanvasObject { return t.hidden.content }

// ProxyTarget is the object that o, if one of a tree's proxies, stands for.
func ProxyTarget(o fyne.CanvasObject) (fyne.CanvasObject, bool) {
	if p, ok := o.(*readerProxy); ok {
		return p.target, true
	}
	return nil, false
}

// readerHidden holds the real content: the bridges' walks do not go
// into widgets, the rest of Fyne (drawing, events, focus) does.
type readerHidden struct {
	widget.BaseWidget
	content fyne.CanvasObject
}

func (h *readerHidden) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(h.content)
}

// readerHook rebuilds the proxies whenever a walk of the window asks
// whether it is visible, which the bridges do just before reaching them.
type readerHook struct {
	tree *ReaderTree
	pos  fyne.Position
	size fyne.Size
}

func (h *readerHook) Visible() bool {
	if h.tree.order != ReaderOff {
		h.tree.rebuild()
	}
	return true
}

func (h *readerHook) MinSize() fyne.Size      { return fyne.Size{} }
func (h *readerHook) Move(p fyne.Position)    { h.pos = p }
func (h *readerHook) Position() fyne.Position { return h.pos }
func (h *readerHook) Resize(s fyne.Size)      { h.size = s }
func (h *readerHook) Size() fyne.Size         { return h.size }
func (h *readerHook) Hide()                   {}
func (h *readerHook) Show()                   {}
func (h *readerHook) Refresh()                {}

// readerProxy stands for one object in the bridges' walk.
type readerProxy struct {
	label  string
	role   fyne.AccessibleRole
	pos    fyne.Position // relative to the box of proxies
	size   fyne.Size     // zero when the object is scrolled out of view
	target fyne.CanvasObject
}

func (p *readerProxy) AccessibilityLabel() string             { return p.label }
func (p *readerProxy) AccessibilityRole() fyne.AccessibleRole { return p.role }
func (p *readerProxy) MinSize() fyne.Size                     { return fyne.Size{} }
func (p *readerProxy) Move(fyne.Position)                     {}
func (p *readerProxy) Position() fyne.Position                { return p.pos }
func (p *readerProxy) Resize(fyne.Size)                       {}
func (p *readerProxy) Size() fyne.Size                        { return p.size }
func (p *readerProxy) Hide()                                  {}
func (p *readerProxy) Show()                                  {}
func (p *readerProxy) Visible() bool                          { return true }
func (p *readerProxy) Refresh()                               {}

// readerElement is one object found on the screen.
type readerElement struct {
	obj         fyne.CanvasObject
	label       string
	role        fyne.AccessibleRole
	interactive bool // Tab reaches it when enabled
	disabled    bool
	at          fyne.Position // where it is in the canvas, in view or not
	pos         fyne.Position // where the part in view is
	size        fyne.Size     // the part in view; zero when out of view
}

// rect is a part of the canvas.
type rect struct{ min, max fyne.Position }

func (r rect) intersect(o rect) rect {
	return rect{fyne.NewPos(max(r.min.X, o.min.X), max(r.min.Y, o.min.Y)), fyne.NewPos(min(r.max.X, o.max.X), min(r.max.Y, o.max.Y))}
}

// rebuild lists the elements of the layer shown (the top dialog or menu,
// else the window) and sets the proxies.
func (t *ReaderTree) rebuild() {
	if t.building {
		return
	}
	t.building = true
	defer func() { t.building = false }()
	root := t.canvas.Content()
	if root == nil {
		return
	}
	var boxAt fyne.Position
	t.findBox(root, fyne.Position{}, &boxAt)
	els := t.elements()
	if t.order == FocusOrder {
		els = t.inFocusOrder(els)
	} else {
		// Top to bottom, then left to right, as the page reads (a dialog's
		// title, for one, comes last in its objects).
		slices.SortStableFunc(els, func(a, b readerElement) int {
			return cmp.Or(cmp.Compare(int(a.at.Y), int(b.at.Y)), cmp.Compare(a.at.X, b.at.X))
		})
	}
	for len(t.proxies) < len(els) {
		t.proxies = append(t.proxies, &readerProxy{})
	}
	objs := make([]fyne.CanvasObject, len(els))
	for i, e := range els {
		p := t.proxies[i]
		*p = readerProxy{label: e.label, role: e.role, pos: e.pos.Subtract(boxAt), size: e.size, target: e.obj}
		objs[i] = p
	}
	t.box.Objects = objs
}

// findBox finds where the box of proxies is in the canvas, as the
// bridges' walks add positions up.
func (t *ReaderTree) findBox(o fyne.CanvasObject, parent fyne.Position, at *fyne.Position) bool {
	pos := parent.Add(o.Position())
	if o == t.box {
		*at = pos
		return true
	}
	if c, ok := o.(*fyne.Container); ok {
		for _, child := range c.Objects {
			if t.findBox(child, pos, at) {
				return true
			}
		}
	}
	return false
}

// elements lists, in the layer's order, what a screen reader must know.
func (t *ReaderTree) elements() []readerElement {
	var els []readerElement
	size := t.canvas.Size()
	view := rect{max: fyne.NewPos(size.Width, size.Height)}
	if top := t.canvas.Overlays().Top(); top != nil {
		t.walk(top, fyne.Position{}, view, &els)
		return els
	}
	t.walk(t.hidden.content, t.contentAt(), view, &els)
	return els
}

// contentAt is where the real content's parent sits in the canvas.
func (t *ReaderTree) contentAt() fyne.Position {
	root := t.canvas.Content()
	return root.Position().Add(t.hidden.Position())
}

// walk adds the elements under o, whose parent is at parent in the
// canvas, with clip the part of the canvas in view.
func (t *ReaderTree) walk(o fyne.CanvasObject, parent fyne.Position, clip rect, els *[]readerElement) {
	if o == nil || !o.Visible() {
		return
	}
	pos := parent.Add(o.Position())
	if !t.walkInside(o, pos, clip, els) {
		t.addWidget(o, pos, clip, els)
	}
}

// walkInside walks what o holds, at pos, when o is a container of some
// kind (or the tree's own hook), and reports whether it was one.
func (t *ReaderTree) walkInside(o fyne.CanvasObject, pos fyne.Position, clip rect, els *[]readerElement) bool {
	switch w := o.(type) {
	case *readerHook:
	case *readerHidden:
		t.walk(w.content, pos, clip, els)
	case *fyne.Container:
		if w == t.box {
			break
		}
		for _, c := range w.Objects {
			t.walk(c, pos, clip, els)
		}
	case *container.Scroll:
		inner := clip.intersect(rect{pos, pos.Add(fyne.NewPos(w.Size().Width, w.Size().Height))})
		t.walk(w.Content, pos, inner, els)
	case *widget.PopUp:
		t.walk(w.Content, pos, clip, els)
	case *widget.PopUpMenu:
		t.walkMenu(w.Menu, clip, els)
	default:
		return false
	}
	return true
}

// addWidget adds o, at pos, as a screen reader names it.
func (t *ReaderTree) addWidget(o fyne.CanvasObject, pos fyne.Position, clip rect, els *[]readerElement) {
	add := func(label string, role fyne.AccessibleRole, interactive bool) {
		e := readerElement{obj: o, label: strings.TrimSpace(label), role: role, interactive: interactive, at: pos}
		if d, ok := o.(fyne.Disableable); ok {
			e.disabled = d.Disabled()
		}
		e.pos, e.size = inView(pos, o.Size(), clip)
		*els = append(*els, e)
	}
	switch w := o.(type) {
	case *Entry:
		add(w.AccessibilityLabel(), w.AccessibilityRole(), true)
		if w.ActionItem != nil { // the password's show/hide, which Tab reaches next
			t.walk(w.ActionItem, pos, clip, els)
		}
		return
	case *widget.ProgressBar:
		add(progressText(w), fyne.AccessibleRoleText, false)
		return
	case *widget.Label:
		// Text. (A selectable label takes the focus through an object of
		// Fyne's inside it, which this list could not name: the app uses
		// readOnlyText instead, and the Narrator test would fail on one.)
		if w.Text != "" {
			add(w.Text, fyne.AccessibleRoleText, false)
		}
		return
	}
	if a, ok := o.(fyne.Accessible); ok {
		_, focusable := o.(fyne.Focusable)
		add(a.AccessibilityLabel(), a.AccessibilityRole(), focusable)
		return
	}
	if _, ok := o.(fyne.Focusable); ok {
		add("", fyne.AccessibleRoleText, true) // unlabelled: TestEveryInteractiveObjectLabelled fails on it
		return
	}
	if inner := overlayContent(o); inner != nil {
		t.walk(inner, pos, clip, els)
	}
}

// walkMenu lists a pop-up menu's items as buttons; the arrow keys move
// among them.
func (t *ReaderTree) walkMenu(m *widget.Menu, clip rect, els *[]readerElement) {
	d := fyne.CurrentApp().Driver()
	for _, item := range m.Items {
		label := menuItemLabel(item)
		if label == "" || !item.Visible() {
			continue
		}
		e := readerElement{obj: item, label: label, role: fyne.AccessibleRoleButton, at: d.AbsolutePositionForObject(item)}
		e.pos, e.size = inView(e.at, item.Size(), clip)
		*els = append(*els, e)
	}
}

// inView is the part of an object at pos that clip shows; for an object
// out of view, a point on the edge it lies beyond.
func inView(pos fyne.Position, size fyne.Size, clip rect) (fyne.Position, fyne.Size) {
	seen := clip.intersect(rect{pos, pos.Add(fyne.NewPos(size.Width, size.Height))})
	if seen.max.X <= seen.min.X || seen.max.Y <= seen.min.Y {
		return fyne.NewPos(max(clip.min.X, min(pos.X, clip.max.X)), max(clip.min.Y, min(pos.Y, clip.max.Y))), fyne.Size{}
	}
	return seen.min, fyne.NewSize(seen.max.X-seen.min.X, seen.max.Y-seen.min.Y)
}

// overlayContent is what a Fyne overlay shows: an overlay is a widget of
// Fyne's internal package, whose exported field Content holds the pop-up
// or the menu.
func overlayContent(o fyne.CanvasObject) fyne.CanvasObject {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Content")
	if !f.IsValid() || !f.CanInterface() {
		return nil
	}
	c, _ := f.Interface().(fyne.CanvasObject)
	return c
}

// menuItemLabel is the label of a Fyne menu item (an unexported widget
// whose exported field Item is the fyne.MenuItem).
func menuItemLabel(o fyne.CanvasObject) string {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName("Item")
	if !f.IsValid() || !f.CanInterface() {
		return ""
	}
	if mi, ok := f.Interface().(*fyne.MenuItem); ok && mi != nil && !mi.IsSeparator {
		return mi.Label
	}
	return ""
}

// progressText says a progress bar's value as it shows it.
func progressText(p *widget.ProgressBar) string {
	if p.TextFormatter != nil {
		return p.TextFormatter()
	}
	if p.Max <= p.Min {
		return ""
	}
	return strconv.Itoa(int(100*(p.Value-p.Min)/(p.Max-p.Min))) + "%"
}

// inFocusOrder keeps what Tab reaches, from the object after the anchor.
func (t *ReaderTree) inFocusOrder(els []readerElement) []readerElement {
	var list []readerElement
	var shape strings.Builder
	for _, e := range els {
		if e.interactive && !e.disabled {
			list = append(list, e)
			shape.WriteString(string(e.role) + "\x00" + e.label + "\x00")
		}
	}
	at := -1
	if shape.String() == t.shape {
		at = index(list, t.anchor)
	}
	if at < 0 { // a new list: it starts after the object focused now
		t.shape = shape.String()
		t.anchor = nil
		if f, ok := t.canvas.Focused().(fyne.CanvasObject); ok {
			t.anchor = f
		}
		at = index(list, t.anchor)
	}
	if at < 0 {
		return list
	}
	return append(list[at+1:], list[:at+1]...)
}

func index(els []readerElement, o fyne.CanvasObject) int {
	if o == nil {
		return -1
	}
	for i, e := range els {
		if e.obj == o {
			return i
		}
	}
	return -1
}
