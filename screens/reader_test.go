package screens

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"consulvote/screens/ui"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// What follows copies, in Go, how Fyne 2.8.1's two bridges walk a window
// (TestBridgeModelsMatchFyne holds the copies to Fyne's source): the
// tests below run them on every screen, as Narrator and VoiceOver would
// be served.

// bridgeElement is one element a bridge hands the screen reader.
type bridgeElement struct {
	label string
	role  fyne.AccessibleRole
	pos   fyne.Position
	size  fyne.Size
	obj   fyne.CanvasObject
}

// windowsBridge is internal/driver/glfw/accessibility_windows.go's
// updateAccessibility: a flat list of the Accessible objects whose role
// is not container, going down *fyne.Container only, content first, then
// the overlays.
func windowsBridge(c fyne.Canvas) []bridgeElement {
	var els []bridgeElement
	var collect func(o fyne.CanvasObject, pos fyne.Position)
	collect = func(o fyne.CanvasObject, pos fyne.Position) {
		if o == nil || !o.Visible() {
			return
		}
		at := pos.Add(o.Position())
		if a, ok := o.(fyne.Accessible); ok && a.AccessibilityRole() != fyne.AccessibleRoleContainer {
			els = append(els, bridgeElement{a.AccessibilityLabel(), a.AccessibilityRole(), at, o.Size(), o})
		}
		if cont, ok := o.(*fyne.Container); ok {
			for _, child := range cont.Objects {
				collect(child, at)
			}
		}
	}
	collect(c.Content(), fyne.Position{})
	for _, o := range c.Overlays().List() {
		collect(o, fyne.Position{})
	}
	return els
}

// darwinBridge is accessibility_darwin.go's updateAccessibility: an
// element for each Accessible object, containers included, stopping at
// the first object that is not Accessible. It returns the leaves (what
// VoiceOver reads: groups with children are not elements).
func darwinBridge(c fyne.Canvas) []bridgeElement {
	var leaves []bridgeElement
	var collect func(o fyne.CanvasObject, pos fyne.Position)
	collect = func(o fyne.CanvasObject, pos fyne.Position) {
		if o == nil || !o.Visible() {
			return
		}
		at := pos.Add(o.Position())
		a, ok := o.(fyne.Accessible)
		if !ok {
			return
		}
		if cont, ok := o.(*fyne.Container); ok {
			n := len(leaves)
			for _, child := range cont.Objects {
				collect(child, at)
			}
			if len(leaves) > n {
				return
			}
		}
		leaves = append(leaves, bridgeElement{a.AccessibilityLabel(), a.AccessibilityRole(), at, o.Size(), o})
	}
	collect(c.Content(), fyne.Position{})
	for _, o := range c.Overlays().List() {
		collect(o, fyne.Position{})
	}
	return leaves
}

// TestBridgeModelsMatchFyne reads Fyne's bridges in the module cache and
// fails if the lines the models above copy have changed: then the models,
// and what docs/accessibility.md says screen readers get, must be checked again.
func TestBridgeModelsMatchFyne(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "fyne.io/fyne/v2").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "internal", "driver", "glfw")
	for file, lines := range map[string][]string{
		"accessibility_windows.go": {
			"if obj == nil || !obj.Visible() {",
			"accessible, isAccessible := obj.(fyne.Accessible)",
			"if role != fyne.AccessibleRoleContainer {",
			"if cont, ok := obj.(*fyne.Container); ok {",
			"w.collectAccessibleElements(w.canvas.Content(), fyne.NewPos(0, 0))",
			"for _, overlay := range w.canvas.Overlays().List() {",
		},
		"accessibility_windows.c": {
			// The bridge's own focus: Tab moves it one element, and a new
			// list puts it back before the first.
			"if (msg == WM_KEYDOWN && wParam == VK_TAB) {",
			"next = (g_focusedIndex <= 0) ? g_root->childCount - 1 : g_focusedIndex - 1;",
			"next = (g_focusedIndex + 1) % g_root->childCount;",
			"g_focusedIndex = -1;",
			"wcscmp(old->name, neu->name) != 0) {",
		},
		"accessibility_darwin.go": {
			"accessible, ok := obj.(fyne.Accessible)\n\tif !ok {\n\t\treturn nil\n\t}",
			"if cont, ok := obj.(*fyne.Container); ok {",
		},
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if !strings.Contains(string(b), l) {
				t.Errorf("%s no longer has %q: check the bridge models and docs/accessibility.md's screen-reader section", file, l)
			}
		}
	}
}

// focusCycle is what Tab reaches from the focused object, in order, back
// to it.
func focusCycle(t *testing.T, c fyne.Canvas) []fyne.CanvasObject {
	t.Helper()
	start := c.Focused()
	if start == nil {
		c.FocusNext()
		start = c.Focused()
	}
	var cycle []fyne.CanvasObject
	for i := 0; ; i++ {
		c.FocusNext()
		f := c.Focused()
		cycle = append(cycle, f.(fyne.CanvasObject))
		if f == start || f == nil {
			break
		}
		if i > 200 {
			t.Fatal("Tab never comes back")
		}
	}
	return cycle
}

// pageObjects lists the visible objects of the layer shown (the top
// overlay, else the window), through every widget, as Fyne draws them.
func pageObjects(c fyne.Canvas) []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	var visit func(o fyne.CanvasObject)
	visit = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		if _, ok := ui.ProxyTarget(o); ok {
			return
		}
		objs = append(objs, o)
		switch w := o.(type) {
		case *fyne.Container:
			for _, child := range w.Objects {
				visit(child)
			}
		case fyne.Widget:
			for _, child := range test.WidgetRenderer(w).Objects() {
				visit(child)
			}
		}
	}
	if top := c.Overlays().Top(); top != nil {
		visit(top)
	} else {
		visit(c.Content())
	}
	return objs
}

// proxied returns, for each element a bridge hands on, the object it
// stands for; it fails on an element that is not one of the app's
// proxies (the bridge reached the real content).
func proxied(t *testing.T, what string, els []bridgeElement) []fyne.CanvasObject {
	t.Helper()
	var objs []fyne.CanvasObject
	for _, e := range els {
		target, ok := ui.ProxyTarget(e.obj)
		if !ok {
			t.Errorf("%s: the bridge reaches %T %q itself", what, e.obj, e.label)
			continue
		}
		objs = append(objs, target)
	}
	return objs
}

// TestScreenReadersReachEveryScreen serves every screen, in both
// languages and in a window tall enough to show it all, to copies of
// Fyne's bridges:
//   - VoiceOver's (reading order) gets every interactive object and every
//     text of the layer shown, each once, with the object's own label and
//     role, where the object is;
//   - Narrator's (focus order) gets exactly what Tab reaches, in the order
//     Tab reaches it, starting after the focused object;
//   - without the app's proxies, the same bridges reach nothing inside the
//     page (Fyne's walk stops at the scroll).
func TestScreenReadersReachEveryScreen(t *testing.T) {
	for _, language := range []string{"fr", "en"} {
		walkScreens(t, language, func(h *harness, name string) {
			c := h.Win.Canvas()
			h.Win.Resize(fyne.NewSize(760, 2600))
			h.Wait()
			what := language + ", " + name
			d := fyne.CurrentApp().Driver()

			// VoiceOver.
			h.ui.reader.SetOrder(ui.ReadingOrder)
			els := darwinBridge(c)
			got := map[fyne.CanvasObject]bridgeElement{}
			for i, o := range proxied(t, what, els) {
				if _, twice := got[o]; twice {
					t.Errorf("%s: %T %q exposed twice", what, o, els[i].label)
				}
				got[o] = els[i]
			}
			for _, o := range pageObjects(c) {
				var label string
				var role fyne.AccessibleRole
				switch w := o.(type) {
				case *widget.Label:
					if w.Text == "" {
						continue
					}
					label, role = w.Text, fyne.AccessibleRoleText
				case fyne.Focusable:
					a, ok := o.(fyne.Accessible)
					if !ok {
						continue // TestEveryInteractiveObjectLabelled reports it
					}
					label, role = a.AccessibilityLabel(), a.AccessibilityRole()
				default:
					continue
				}
				e, ok := got[o]
				if !ok {
					t.Errorf("%s: %T %q not exposed", what, o, label)
					continue
				}
				if e.label != strings.TrimSpace(label) || e.role != role {
					t.Errorf("%s: %T exposed as %s %q, want %s %q", what, o, e.role, e.label, role, label)
				}
				if at := d.AbsolutePositionForObject(o); !near(e.pos.X, at.X) || !near(e.pos.Y, at.Y) ||
					!near(e.size.Width, o.Size().Width) || !near(e.size.Height, o.Size().Height) {
					t.Errorf("%s: %q exposed at %v %v, drawn at %v %v", what, label, e.pos, e.size, at, o.Size())
				}
			}

			// Narrator.
			h.ui.reader.SetOrder(ui.FocusOrder)
			list := windowsBridge(c) // the walk after its first frame
			cycle := focusCycle(t, c)
			if got := proxied(t, what, list); fmt.Sprint(got) != fmt.Sprint(cycle) {
				t.Errorf("%s: Narrator's list is not Tab's cycle:\n list %s\n Tab  %s", what, names(got), names(cycle))
			}
			if again := windowsBridge(c); fmt.Sprint(shape(again)) != fmt.Sprint(shape(list)) {
				t.Errorf("%s: Narrator's list changed while Tab went round", what)
			}

			// Fyne alone.
			if top := c.Overlays().Top(); top == nil {
				for _, e := range windowsBridge(&bareCanvas{c, h.ui.reader.Content()}) {
					if ui.Contains(h.ui.Body(), e.obj) {
						t.Errorf("%s: Fyne's own walk reaches %T %q in the page: the proxies may no longer be needed", what, e.obj, e.label)
					}
				}
			}
			h.ui.reader.SetOrder(ui.ReadingOrder)
		})
	}
}

func near(a, b float32) bool { return a-b < 0.01 && b-a < 0.01 }

// shape is what tells Fyne's Windows bridge that its list changed (and
// puts its focus back before the first element): labels and roles.
func shape(els []bridgeElement) []string {
	var s []string
	for _, e := range els {
		s = append(s, string(e.role)+" "+e.label)
	}
	return s
}

// bareCanvas is a canvas whose content is the app's real content, as if
// the reader tree were not there.
type bareCanvas struct {
	fyne.Canvas
	content fyne.CanvasObject
}

func (b *bareCanvas) Content() fyne.CanvasObject { return b.content }

func names(objs []fyne.CanvasObject) string {
	var s []string
	for _, o := range objs {
		if a, ok := o.(fyne.Accessible); ok {
			s = append(s, fmt.Sprintf("%q", a.AccessibilityLabel()))
		} else {
			s = append(s, fmt.Sprintf("%T", o))
		}
	}
	return strings.Join(s, " ")
}

// BenchmarkReaderRebuild: one rebuild of the proxies on the identifier
// request page (it runs each time a walk of the window passes the hook).
func BenchmarkReaderRebuild(b *testing.B) {
	for _, order := range []ui.ReaderOrder{ui.ReadingOrder, ui.FocusOrder} {
		b.Run(fmt.Sprint(order), func(b *testing.B) {
			h := newHarness(b)
			h.Tap(screenAs[*homeScreen](h).lostID)
			h.ui.reader.SetOrder(order)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = h.ui.reader.Rebuild()
			}
			b.ReportMetric(float64(n), "elements")
		})
	}
}

// TestScreenReaderPlaces: in a window too small for the form, what is in
// view is exposed where it is drawn, clipped to the page; what is
// scrolled out of view is a point on the page's edge it lies beyond,
// which a pointer cannot hit.
func TestScreenReaderPlaces(t *testing.T) {
	h := newHarness(t)
	h.Win.Resize(fyne.NewSize(700, 420))
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	h.ui.reader.SetOrder(ui.ReadingOrder)
	d := fyne.CurrentApp().Driver()
	view := d.AbsolutePositionForObject(h.ui.Scroll())
	bottom := view.Y + h.ui.Scroll().Size().Height
	placed := func() map[fyne.CanvasObject]bridgeElement {
		m := map[fyne.CanvasObject]bridgeElement{}
		for _, e := range darwinBridge(h.Win.Canvas()) {
			target, _ := ui.ProxyTarget(e.obj)
			m[target] = e
		}
		return m
	}
	els := placed()
	if e := els[r.numic.Entry]; e.size != r.numic.Entry.Size() || e.pos != d.AbsolutePositionForObject(r.numic.Entry) {
		t.Errorf("the NUMIC, in view, exposed at %v %v", e.pos, e.size)
	}
	if e, ok := els[r.send.Button]; !ok || !e.size.IsZero() || !near(e.pos.Y, bottom) {
		t.Errorf("the button below the view exposed at %v %v, want a point on the bottom edge (y %.0f)", e.pos, e.size, bottom)
	}
	h.Win.Canvas().Focus(r.send.Button) // the page scrolls to it
	els = placed()
	if e := els[r.send.Button]; e.size != r.send.Button.Size() {
		t.Errorf("the button, scrolled into view, exposed at %v %v", e.pos, e.size)
	}
	if e := els[r.numic.Entry]; !e.size.IsZero() || !near(e.pos.Y, view.Y) {
		t.Errorf("the NUMIC, scrolled above the view, exposed at %v %v, want a point on the top edge (y %.0f)", e.pos, e.size, view.Y)
	}
	for o, e := range els {
		if e.pos.Y+e.size.Height > h.Win.Canvas().Size().Height+0.01 || e.pos.Y < 0 {
			t.Errorf("%T %q exposed outside the window: %v %v", o, e.label, e.pos, e.size)
		}
	}
}

// TestNarratorAfterErrors: a submit with errors changes the fields' names
// (each carries its error), so Fyne's Windows bridge starts its list
// again: the first Tab must then name what Tab focuses, after the field
// in error that got the focus.
func TestNarratorAfterErrors(t *testing.T) {
	h := newHarness(t)
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	c := h.Win.Canvas()
	h.ui.reader.SetOrder(ui.FocusOrder)
	before := shape(windowsBridge(c))
	test.Type(r.numic.Entry, marie.NUMIC)
	h.Tap(r.send.Button) // the e-mail and the code are missing
	if c.Focused() != r.email.Entry {
		t.Fatalf("focus on %T, want the e-mail", c.Focused())
	}
	list := windowsBridge(c)
	if fmt.Sprint(shape(list)) == fmt.Sprint(before) {
		t.Fatal("the list did not change with the errors: Narrator would not hear them")
	}
	if !strings.Contains(list[len(list)-1].label, "Adresse électronique — ") {
		t.Errorf("the e-mail, focused, is exposed as %q, without its error", list[len(list)-1].label)
	}
	// Narrator's focus restarts before the first element: Tab goes to 0.
	for i := range list {
		c.FocusNext()
		if got, _ := ui.ProxyTarget(list[i].obj); got != c.Focused().(fyne.CanvasObject) {
			t.Fatalf("Tab %d: Narrator names %q, the focus is on %s", i+1, list[i].label, names([]fyne.CanvasObject{c.Focused().(fyne.CanvasObject)}))
		}
		if fmt.Sprint(shape(windowsBridge(c))) != fmt.Sprint(shape(list)) {
			t.Fatalf("Tab %d changed Narrator's list", i+1)
		}
	}
}

// TestScreenReaderMenuAndDialog: the toolbar folded into its menu, and a
// question, are exposed while shown, and only they (they are modal).
func TestScreenReaderMenuAndDialog(t *testing.T) {
	h := newHarness(t)
	h.Win.Resize(fyne.NewSize(420, 600)) // the toolbar folds
	h.Wait()
	h.ui.reader.SetOrder(ui.ReadingOrder)
	if !h.ui.menuButton.Visible() {
		t.Fatal("the toolbar did not fold")
	}
	h.Tap(h.ui.menuButton)
	var labels []string
	for _, e := range darwinBridge(h.Win.Canvas()) {
		labels = append(labels, string(e.role)+" "+e.label)
		if e.size.IsZero() {
			t.Errorf("menu item %q has no place", e.label)
		}
	}
	if want := "[button Aide button Messages envoyés button Paramètres]"; fmt.Sprint(labels) != want {
		t.Errorf("with the menu open, screen readers get %v, want %s", labels, want)
	}
	h.Win.Canvas().Overlays().Top().Hide()
	h.Win.Canvas().Overlays().Remove(h.Win.Canvas().Overlays().Top())
	h.ui.Ask("Titre", "Texte de la question", "Rester", "Partir", func() {})
	labels = nil
	for _, e := range darwinBridge(h.Win.Canvas()) {
		labels = append(labels, string(e.role)+" "+e.label)
	}
	if want := "[text Titre text Texte de la question button Rester button Partir]"; fmt.Sprint(labels) != want {
		t.Errorf("with a question shown, screen readers get %v, want %s", labels, want)
	}
}
