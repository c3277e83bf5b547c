package screens

import (
	"context"
	"errors"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// entry is a one-line entry with the app's focus ring that also hears
// Escape, which a focused widget.Entry would swallow, so that Escape goes
// back from any field.
type entry struct {
	widget.Entry
	focused  bool
	onEscape func()
	// label names the field for screen readers (its visible label).
	label string
	// onFocus scrolls the page to show the entry.
	onFocus func(fyne.CanvasObject)
}

// AccessibilityLabel implements fyne.Accessible: the field's label; never
// what is typed, which may be a password.
func (e *entry) AccessibilityLabel() string { return e.label }

// AccessibilityRole implements fyne.Accessible. Fyne 2.8 has no role for
// an editable field; text is the nearest.
func (e *entry) AccessibilityRole() fyne.AccessibleRole { return fyne.AccessibleRoleText }

func newEntry(password bool, onEscape func()) *entry {
	e := &entry{onEscape: onEscape}
	e.Password = password
	e.ExtendBaseWidget(e)
	return e
}

// CreateRenderer implements fyne.Widget.
func (e *entry) CreateRenderer() fyne.WidgetRenderer {
	return newRingRenderer(e, e.Entry.CreateRenderer(), func() bool { return e.focused })
}

// FocusGained implements fyne.Focusable.
func (e *entry) FocusGained() {
	e.focused = true
	e.Entry.FocusGained()
	if e.onFocus != nil {
		e.onFocus(e)
	}
}

// FocusLost implements fyne.Focusable.
func (e *entry) FocusLost() {
	e.focused = false
	e.Entry.FocusLost()
}

func (e *entry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// readOnlyText is text the keyboard can select and copy (a message's
// body: Shift+arrows, Ctrl+A, Ctrl+C): a multi-line entry that refuses
// every change and lets Tab move on.
type readOnlyText struct {
	entry
	text string
	// onCursor scrolls the page to the line the cursor moved to: a text
	// taller than the page is read to its end with the arrows.
	onCursor func(*readOnlyText)
	// copied, when set, turns what Ctrl+C copies (the selection, or all
	// the text when nothing is selected) into what goes to the clipboard.
	copied func(string) string
}

func (u *UI) readOnlyText(text string) *readOnlyText {
	t := &readOnlyText{text: text}
	t.onEscape = u.escape
	// Not the object passed, which is the entry inside t.
	t.onFocus = func(fyne.CanvasObject) { u.reveal(t) }
	t.onCursor = func(t *readOnlyText) {
		line := fyne.MeasureText("M", theme.TextSize(), t.TextStyle).Height
		u.revealLines(t, theme.InnerPadding()+float32(t.CursorRow)*line, 2*line)
	}
	t.label = text
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
func (t *readOnlyText) AcceptsTab() bool { return false }

// TypedRune implements fyne.Focusable: nothing is typed.
func (t *readOnlyText) TypedRune(rune) {}

// TypedKey implements fyne.Focusable: only the keys that move and select.
func (t *readOnlyText) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyUp, fyne.KeyDown, fyne.KeyLeft, fyne.KeyRight, fyne.KeyHome, fyne.KeyEnd,
		fyne.KeyPageUp, fyne.KeyPageDown, fyne.KeyEscape:
		t.entry.TypedKey(k)
		if t.onCursor != nil {
			t.onCursor(t)
		}
	}
}

// TypedShortcut implements fyne.Shortcutable: copy and select all only.
func (t *readOnlyText) TypedShortcut(s fyne.Shortcut) {
	switch s := s.(type) {
	case *fyne.ShortcutCopy:
		if t.copied == nil {
			t.entry.TypedShortcut(s)
			return
		}
		text := t.SelectedText()
		if text == "" {
			text = t.text
		}
		if s.Clipboard != nil {
			s.Clipboard.SetContent(t.copied(text))
		}
	case *fyne.ShortcutSelectAll:
		t.entry.TypedShortcut(s)
	}
}

// field is a labelled entry with its help below and room for its error.
// A password field has a show/hide button the Tab key reaches.
type field struct {
	label  *widget.Label
	entry  *entry
	help   *widget.Label
	err    *widget.Label
	reveal *button // password fields only
}

func newField(u *UI, labelKey, helpKey string, password bool) *field {
	f := &field{
		label: widget.NewLabelWithStyle(lang.L(labelKey), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		entry: newEntry(password, u.escape),
		err:   widget.NewLabel(""),
	}
	f.entry.onFocus = func(o fyne.CanvasObject) { u.reveal(f.label, o) }
	f.entry.SetPlaceHolder(lang.L(labelKey))
	f.entry.label = lang.L(labelKey)
	if helpKey != "" {
		// Italic rather than dimmed: the help must stay readable for
		// people with low vision, on every theme.
		f.help = wrapped(lang.L(helpKey))
		f.help.TextStyle = fyne.TextStyle{Italic: true}
	}
	f.err.Importance = widget.DangerImportance
	f.err.Wrapping = fyne.TextWrapWord
	f.err.Hide()
	if password {
		// Fyne's own eye is not focusable: ours is, and says what it does.
		f.reveal = u.iconButton(lang.L("password.show"), theme.VisibilityIcon(), nil)
		f.reveal.OnTapped = func() {
			f.entry.Password = !f.entry.Password
			if f.entry.Password {
				f.reveal.label, f.reveal.Icon = lang.L("password.show"), theme.VisibilityIcon()
			} else {
				f.reveal.label, f.reveal.Icon = lang.L("password.hide"), theme.VisibilityOffIcon()
			}
			f.reveal.Refresh()
			f.entry.Refresh()
		}
		f.reveal.Importance = widget.LowImportance
		f.entry.ActionItem = f.reveal
	}
	return f
}

func (f *field) object() fyne.CanvasObject {
	objs := []fyne.CanvasObject{f.label, f.entry}
	if f.help != nil {
		objs = append(objs, f.help)
	}
	return container.NewVBox(append(objs, f.err)...)
}

// setError shows msg under the field, or hides the error when msg is "".
// What was typed stays.
func (f *field) setError(msg string) {
	// A screen reader hears the error with the field's name.
	f.entry.label = f.label.Text
	if msg != "" {
		f.entry.label += " — " + msg
	}
	f.err.SetText(msg)
	if msg == "" {
		f.err.Hide()
	} else {
		f.err.Show()
	}
}

// codeField is the security code: its picture, "Nouveau code" and the
// entry for the 4 digits.
type codeField struct {
	*field
	u       *UI
	id      string
	image   *canvas.Image
	refresh *button
	listen  *button
	status  *widget.Label
}

func newCodeField(u *UI) *codeField {
	c := &codeField{field: newField(u, "field.code", "field.code.help", false), u: u}
	c.image = &canvas.Image{}
	c.image.FillMode = canvas.ImageFillContain
	c.image.SetMinSize(fyne.NewSize(200, 70))
	c.refresh = u.button(lang.L("code.new"), theme.ViewRefreshIcon(), c.load)
	c.listen = u.button(lang.L("code.listen"), theme.VolumeUpIcon(), c.play)
	c.status = wrapped("")
	c.load()
	return c
}

func (c *codeField) object() fyne.CanvasObject {
	return container.NewVBox(
		c.label,
		// The picture is transparent: a white card behind it keeps the
		// digits legible on a dark theme.
		container.NewHBox(container.NewStack(canvas.NewRectangle(color.White), c.image),
			container.NewCenter(container.NewVBox(c.refresh, c.listen))),
		c.status,
		c.entry, c.help, c.err,
	)
}

// load fetches a new code and clears what was typed for the old one.
func (c *codeField) load() {
	c.id = ""
	c.entry.SetText("")
	c.refresh.Disable()
	c.status.SetText(lang.L("code.loading"))
	c.status.Show()
	call(c.u, func(ctx context.Context) (portal.SecurityCode, error) {
		return c.u.portal.NewSecurityCode(ctx)
	}, func(sc portal.SecurityCode, err error) {
		c.refresh.Enable()
		if err != nil {
			c.status.SetText(lang.L("code.failed"))
			return
		}
		c.id = sc.ID
		c.image.Resource = fyne.NewStaticResource("code-"+sc.ID+".png", sc.PNG)
		c.image.Refresh()
		c.status.Hide()
	})
}

// play says the code aloud, in the UI's language.
func (c *codeField) play() {
	if c.id == "" {
		return
	}
	if c.u.opt.Player == nil {
		c.status.SetText(lang.X("code.no_audio", "", map[string]any{"Contact": c.u.opt.Assistance}))
		c.status.Show()
		return
	}
	id, language, player := c.id, c.u.opt.Language, c.u.opt.Player
	if language == "" {
		language = "fr"
	}
	c.listen.Disable()
	c.status.SetText(lang.L("code.playing"))
	c.status.Show()
	call(c.u, func(ctx context.Context) (bool, error) {
		sound, err := c.u.portal.SecurityCodeAudio(ctx, id, language)
		if err != nil {
			return false, err
		}
		return true, player.Play(ctx, sound)
	}, func(fetched bool, err error) {
		c.listen.Enable()
		switch {
		case err == nil:
			c.status.Hide()
		case !fetched && errors.Is(err, portal.ErrSecurityCodeExpired):
			c.load()
			c.setError(c.u.errorText(err))
		case !fetched:
			c.status.SetText(c.u.errorText(err))
		default: // the sound came but could not be played
			c.status.SetText(lang.X("code.no_audio", "", map[string]any{"Contact": c.u.opt.Assistance}))
		}
	})
}

// wrapped is a label that wraps words, for sentences.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// submitButton is a form's main button with its activity indicator:
// while the portal works, the button is disabled and the indicator turns.
// The button and Enter in the form's fields go through submit, which
// does nothing while a call is under way: a double Enter sends one
// request.
type submitButton struct {
	button   *button
	activity *widget.Activity
	onSubmit func()
	running  bool
}

func (u *UI) newSubmit(labelKey string, onSubmit func()) *submitButton {
	s := &submitButton{onSubmit: onSubmit, activity: widget.NewActivity()}
	s.button = u.button(lang.L(labelKey), nil, s.submit)
	s.button.Importance = widget.HighImportance
	s.activity.Hide()
	return s
}

// submit runs the form's action unless its call is under way.
func (s *submitButton) submit() {
	if !s.running {
		s.onSubmit()
	}
}

// submitOn makes Enter in each entry submit the form.
func (s *submitButton) submitOn(entries ...*entry) {
	for _, e := range entries {
		e.OnSubmitted = func(string) { s.submit() }
	}
}

func (s *submitButton) object() fyne.CanvasObject {
	return container.NewHBox(s.button, s.activity)
}

func (s *submitButton) busy(on bool) {
	s.running = on
	if on {
		s.button.Disable()
		s.activity.Show()
		s.activity.Start()
		return
	}
	s.activity.Stop()
	s.activity.Hide()
	s.button.Enable()
}

// message is a sentence shown to the user after an action: an error in
// red, or a confirmation.
type message struct {
	label *widget.Label
}

func newMessage() *message {
	l := wrapped("")
	l.Hide()
	return &message{label: l}
}

func (m *message) set(text string, importance widget.Importance) {
	m.label.Importance = importance
	m.label.SetText(text)
	if text == "" {
		m.label.Hide()
	} else {
		m.label.Show()
	}
}
