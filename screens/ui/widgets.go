package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Entry is a one-line entry with the app's focus ring that also hears
// Escape, which a focused widget.Entry would swallow, so that Escape goes
// back from any field.
type Entry struct {
	widget.Entry
	focused  bool
	OnEscape func()
	// Label names the field for screen readers (its visible label).
	Label string
	// OnFocus scrolls the page to show the entry.
	OnFocus func(fyne.CanvasObject)
}

// AccessibilityLabel implements fyne.Accessible: the field's label; never
// what is typed, which may be a password.
func (e *Entry) AccessibilityLabel() string { return e.Label }

// AccessibilityRole implements fyne.Accessible. Fyne 2.8 has no role for
// an editable field; text is the nearest.
func (e *Entry) AccessibilityRole() fyne.AccessibleRole { return fyne.AccessibleRoleText }

// NewEntry is an entry, hidden for a password, whose Escape calls onEscape.
func NewEntry(password bool, onEscape func()) *Entry {
	e := &Entry{OnEscape: onEscape}
	e.Password = password
	e.ExtendBaseWidget(e)
	return e
}

// CreateRenderer implements fyne.Widget.
func (e *Entry) CreateRenderer() fyne.WidgetRenderer {
	return newRingRenderer(e, e.Entry.CreateRenderer(), func() bool { return e.focused })
}

// FocusGained implements fyne.Focusable.
func (e *Entry) FocusGained() {
	e.focused = true
	e.Entry.FocusGained()
	if e.OnFocus != nil {
		e.OnFocus(e)
	}
}

// FocusLost implements fyne.Focusable.
func (e *Entry) FocusLost() {
	e.focused = false
	e.Entry.FocusLost()
}

func (e *Entry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.OnEscape != nil {
		e.OnEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// ReadOnlyText is text the keyboard can select and copy (a message's
// body: Shift+arrows, Ctrl+A, Ctrl+C): a multi-line entry that refuses
// every change and lets Tab move on.
type ReadOnlyText struct {
	Entry
	text string
	// OnCursor scrolls the page to the line the cursor moved to: a text
	// taller than the page is read to its end with the arrows.
	OnCursor func(*ReadOnlyText)
	// Copied, when set, turns what Ctrl+C copies (the selection, or all
	// the text when nothing is selected) into what goes to the clipboard.
	Copied func(string) string
}

// ReadOnlyText is text on the page the keyboard can select and copy.
func (n *Nav) ReadOnlyText(text string) *ReadOnlyText {
	t := &ReadOnlyText{text: text}
	t.OnEscape = n.Escape
	// Not the object passed, which is the entry inside t.
	t.OnFocus = func(fyne.CanvasObject) { n.Reveal(t) }
	t.OnCursor = func(t *ReadOnlyText) {
		line := fyne.MeasureText("M", theme.TextSize(), t.TextStyle).Height
		n.RevealLines(t, theme.InnerPadding()+float32(t.CursorRow)*line, 2*line)
	}
	t.Label = text
	t.MultiLine = true
	t.Wrapping = fyne.TextWrapWord
	t.Text = text
	// Room for the whole text at a normal width, so that it does not
	// scroll inside the page that scrolls.
	rows := 1
	for _, line := range strings.Split(text, "\n") {
		rows += 1 + len([]rune(line))/80
	}
	t.SetMinRowsVisible(rows)
	t.ExtendBaseWidget(t)
	// Anything that gets through (a drop, the context menu) is undone.
	t.OnChanged = func(string) {
		if t.Text != t.text {
			t.SetText(t.text)
		}
	}
	return t
}

// AcceptsTab implements fyne.Tabbable: Tab leaves the text.
func (t *ReadOnlyText) AcceptsTab() bool { return false }

// Clear empties the text and its label, for a secret no longer shown.
func (t *ReadOnlyText) Clear() {
	t.text, t.Label = "", ""
	t.SetText("")
}

// TypedRune implements fyne.Focusable: nothing is typed.
func (t *ReadOnlyText) TypedRune(rune) {}

// TypedKey implements fyne.Focusable: only the keys that move and select.
func (t *ReadOnlyText) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyUp, fyne.KeyDown, fyne.KeyLeft, fyne.KeyRight, fyne.KeyHome, fyne.KeyEnd,
		fyne.KeyPageUp, fyne.KeyPageDown, fyne.KeyEscape:
		t.Entry.TypedKey(k)
		if t.OnCursor != nil {
			t.OnCursor(t)
		}
	}
}

// TypedShortcut implements fyne.Shortcutable: copy and select all only.
func (t *ReadOnlyText) TypedShortcut(s fyne.Shortcut) {
	switch s := s.(type) {
	case *fyne.ShortcutCopy:
		if t.Copied == nil {
			t.Entry.TypedShortcut(s)
			return
		}
		text := t.SelectedText()
		if text == "" {
			text = t.text
		}
		if s.Clipboard != nil {
			s.Clipboard.SetContent(t.Copied(text))
		}
	case *fyne.ShortcutSelectAll:
		t.Entry.TypedShortcut(s)
	}
}

// Field is a labelled entry with its help below and room for its error.
// A password field has a show/hide button the Tab key reaches.
type Field struct {
	Label  *widget.Label
	Entry  *Entry
	Help   *widget.Label
	Err    *widget.Label
	Reveal *Button // password fields only
}

// NewField is the field labelled and helped by the translations of
// labelKey and helpKey (none when "").
func (n *Nav) NewField(labelKey, helpKey string, password bool) *Field {
	f := &Field{
		Label: widget.NewLabelWithStyle(lang.L(labelKey), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Entry: NewEntry(password, n.Escape),
		Err:   widget.NewLabel(""),
	}
	f.Entry.OnFocus = func(o fyne.CanvasObject) { n.Reveal(f.Label, o) }
	f.Entry.SetPlaceHolder(lang.L(labelKey))
	f.Entry.Label = lang.L(labelKey)
	if helpKey != "" {
		// Italic rather than dimmed: the help must stay readable for
		// people with low vision, on every theme.
		f.Help = Wrapped(lang.L(helpKey))
		f.Help.TextStyle = fyne.TextStyle{Italic: true}
	}
	f.Err.Importance = widget.DangerImportance
	f.Err.Wrapping = fyne.TextWrapWord
	f.Err.Hide()
	if password {
		// Fyne's own eye is not focusable: ours is, and says what it does.
		f.Reveal = n.IconButton(lang.L("password.show"), theme.VisibilityIcon(), nil)
		f.Reveal.OnTapped = func() {
			f.Entry.Password = !f.Entry.Password
			if f.Entry.Password {
				f.Reveal.Label, f.Reveal.Icon = lang.L("password.show"), theme.VisibilityIcon()
			} else {
				f.Reveal.Label, f.Reveal.Icon = lang.L("password.hide"), theme.VisibilityOffIcon()
			}
			f.Reveal.Refresh()
			f.Entry.Refresh()
		}
		f.Reveal.Importance = widget.LowImportance
		f.Entry.ActionItem = f.Reveal
	}
	return f
}

// Object lays the field out: label, entry, help and error.
func (f *Field) Object() fyne.CanvasObject {
	objs := []fyne.CanvasObject{f.Label, f.Entry}
	if f.Help != nil {
		objs = append(objs, f.Help)
	}
	return container.NewVBox(append(objs, f.Err)...)
}

// SetError shows msg under the field, or hides the error when msg is "".
// What was typed stays.
func (f *Field) SetError(msg string) {
	// A screen reader hears the error with the field's name.
	f.Entry.Label = f.Label.Text
	if msg != "" {
		f.Entry.Label += " — " + msg
	}
	f.Err.SetText(msg)
	if msg == "" {
		f.Err.Hide()
	} else {
		f.Err.Show()
	}
}

// Wrapped is a label that wraps words, for sentences.
func Wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// Heading is a page's title.
func Heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// Submit is a form's main button with its activity indicator:
// while the portal works, the button is disabled and the indicator turns.
// The button and Enter in the form's fields go through submit, which
// does nothing while a call is under way: a double Enter sends one
// request.
type Submit struct {
	Button   *Button
	Activity *widget.Activity
	onSubmit func()
	running  bool
}

// NewSubmit is the form's button labelled by labelKey's translation.
func (n *Nav) NewSubmit(labelKey string, onSubmit func()) *Submit {
	s := &Submit{onSubmit: onSubmit, Activity: widget.NewActivity()}
	s.Button = n.Button(lang.L(labelKey), nil, s.Submit)
	s.Button.Importance = widget.HighImportance
	s.Activity.Hide()
	return s
}

// Submit runs the form's action unless its call is under way.
func (s *Submit) Submit() {
	if !s.running {
		s.onSubmit()
	}
}

// SubmitOn makes Enter in each entry submit the form.
func (s *Submit) SubmitOn(entries ...*Entry) {
	for _, e := range entries {
		e.OnSubmitted = func(string) { s.Submit() }
	}
}

// Busy shows that the form's call is under way, or no longer.
func (s *Submit) Busy(on bool) {
	s.running = on
	if on {
		s.Button.Disable()
		s.Activity.Show()
		s.Activity.Start()
		return
	}
	s.Activity.Stop()
	s.Activity.Hide()
	s.Button.Enable()
}

// Object is the button beside its activity indicator.
func (s *Submit) Object() fyne.CanvasObject {
	return container.NewHBox(s.Button, s.Activity)
}

// Message is a sentence shown to the user after an action: an error in
// red, or a confirmation.
type Message struct {
	Label *widget.Label
}

// NewMessage is an empty message, hidden.
func NewMessage() *Message {
	l := Wrapped("")
	l.Hide()
	return &Message{Label: l}
}

// Set shows text, or hides the message when text is "".
func (m *Message) Set(text string, importance widget.Importance) {
	m.Label.Importance = importance
	m.Label.SetText(text)
	if text == "" {
		m.Label.Hide()
	} else {
		m.Label.Show()
	}
}
