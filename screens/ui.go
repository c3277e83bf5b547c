// Package screens draws the voter's screens with Fyne. It knows the portal
// contract and nothing of how the portal is served: every action is a call
// to a portal.Portal, run off the UI goroutine, whose result comes back
// through fyne.DoAndWait.
package screens

import (
	"context"
	"errors"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/resources"
)

// Player plays a sound (a WAV file) and returns once it has been heard;
// an error means the computer could not play it (no audio device).
type Player interface {
	Play(ctx context.Context, wav []byte) error
}

// Keychain keeps an identifier in the operating system's keychain.
type Keychain interface {
	Save(user, secret string) error
	Load(user string) (string, error)
}

// Options configure the screens.
type Options struct {
	// Election is the date line under the election's title: a month,
	// "2026-05" (or "Mai 2026"), shown in the UI's language; any other
	// text as given.
	Election string
	// Assistance says how to reach the assistance cell.
	Assistance string
	// Keychain saves identifiers; nil when the system has none.
	Keychain Keychain
	// Player says the security code aloud; nil when there is no sound.
	Player Player
	// Outbox is set in demonstration mode only: it shows the banner and
	// the "Messages envoyés" viewer.
	Outbox portal.Outbox
	// Backend says where the data comes from, shown at the bottom.
	Backend string
	// Language is the current UI language; OnLanguage, when set, offers
	// the other one and is called to switch.
	Language   string
	OnLanguage func(language string)
	// CallTimeout bounds every portal call (30 s when zero).
	CallTimeout time.Duration
	// Office, when set, offers the "Espace consulat" to agents; RollAdmin
	// (local mode) adds the roll import and the credentials campaigns.
	Office    portal.Office
	RollAdmin portal.RollAdmin
}

// UI is the voter's application in one window.
type UI struct {
	app    fyne.App
	win    fyne.Window
	portal portal.Portal
	opt    Options

	stack []*page
	body  *fyne.Container
	// scroll scrolls the page shown; backButton is its "Retour" (nil at
	// home).
	scroll     *container.Scroll
	backButton *button
	// summary lists, at the top of the page, the fields to correct.
	summary *message
	// reader presents the window to screen readers.
	reader *readerTree
	// question is the dialog open, if any: Escape closes it.
	question dialog.Dialog

	helpButton, messagesButton, languageButton, settingsButton, officeButton *button
	// menuButton holds the toolbar's buttons when the window is narrow.
	menuButton *button
	foldedMenu *fyne.Menu // the menu it opened last

	// agent is the agent logged in to the office, if any.
	agent *portal.AgentSession

	// tasks counts portal calls under way, so tests can wait for them.
	tasks sync.WaitGroup
	// post runs a call's result on the UI goroutine: fyne.DoAndWait. The
	// tests replace it with a queue they drain on their own goroutine,
	// because Fyne's test driver would run it on the caller's.
	post func(func())
}

// page is one screen as the navigator shows it.
type page struct {
	title   string
	content fyne.CanvasObject
	focus   fyne.Focusable // focused when the page is shown
	screen  any            // the screen's struct, for tests
	// leave, when set, is asked before the page is left and calls
	// proceed if the user agrees.
	leave func(proceed func())
}

// New builds the UI in w and shows the home page.
func New(a fyne.App, w fyne.Window, p portal.Portal, opt Options) *UI {
	if opt.CallTimeout == 0 {
		opt.CallTimeout = 30 * time.Second
	}
	u := &UI{app: a, win: w, portal: p, opt: opt, body: container.NewStack(), post: fyne.DoAndWait}
	a.Settings().SetTheme(Theme{})

	var top []fyne.CanvasObject
	if opt.Outbox != nil {
		top = append(top, demoBanner())
	}
	top = append(top, u.toolbar())
	var bottom fyne.CanvasObject
	if opt.Backend != "" {
		l := widget.NewLabel(opt.Backend)
		l.Importance = widget.LowImportance
		l.Alignment = fyne.TextAlignTrailing
		l.Truncation = fyne.TextTruncateEllipsis // a long path must not widen the window
		bottom = l
	}
	// Screen readers reach the page through the reader tree (reader.go).
	var shown fyne.CanvasObject
	u.reader, shown = newReaderTree(w.Canvas(), container.NewBorder(container.NewVBox(top...), bottom, nil, nil, u.body), platformReaderOrder)
	w.SetContent(shown)
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.escape()
		}
	})
	// Closing the window is leaving the page: E6 asks first.
	w.SetCloseIntercept(u.closeWindow)
	u.home()
	return u
}

// closeWindow is the window's close button: leaving the page, E6 asks.
func (u *UI) closeWindow() { u.leaveTop(u.win.Close) }

// escape closes the question shown, which keeps the page (the safe
// choice), or else goes back.
func (u *UI) escape() {
	if u.question != nil {
		u.question.Hide()
		return
	}
	u.back()
}

// ask shows a question with two answers: stay, the safe one, which is
// the default (focused, highlighted, and Escape's), and leave.
func (u *UI) ask(title, text, stayLabel, leaveLabel string, onLeave func()) {
	if u.question != nil {
		return
	}
	stay := u.button(stayLabel, nil, nil)
	stay.Importance = widget.HighImportance
	leave := u.button(leaveLabel, nil, nil)
	stay.onFocus, leave.onFocus = nil, nil // in the dialog, not on the page
	d := dialog.NewCustomWithoutButtons(title, wrapped(text), u.win)
	stay.OnTapped = d.Hide
	leave.OnTapped = func() {
		d.Hide()
		onLeave()
	}
	d.SetButtons([]fyne.CanvasObject{stay, leave})
	// Closed, the question gives the focus back to what had it (the
	// button that asked), if still on the page.
	prev := u.win.Canvas().Focused()
	d.SetOnClosed(func() {
		u.question = nil
		if o, ok := prev.(fyne.CanvasObject); ok && u.win.Canvas().Focused() == nil && u.onPage(o) {
			u.win.Canvas().Focus(prev)
		}
	})
	u.question = d
	d.Show()
	u.win.Canvas().Focus(stay)
}

func demoBanner() fyne.CanvasObject {
	l := widget.NewLabelWithStyle(lang.L("banner.demo"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = widget.WarningImportance
	l.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, l)
}

func (u *UI) toolbar() fyne.CanvasObject {
	u.helpButton = u.button(lang.L("toolbar.help"), theme.HelpIcon(), u.help)
	items := []fyne.CanvasObject{u.helpButton}
	if u.opt.Outbox != nil {
		u.messagesButton = u.button(lang.L("toolbar.messages"), theme.MailComposeIcon(), u.outbox)
		items = append(items, u.messagesButton)
	}
	if u.opt.Office != nil {
		u.officeButton = u.button(lang.L("toolbar.office"), theme.AccountIcon(), u.office)
		items = append(items, u.officeButton)
	}
	u.settingsButton = u.button(lang.L("toolbar.settings"), theme.SettingsIcon(), func() {
		if _, ok := u.top().screen.(*settingsScreen); !ok {
			u.show(newSettings(u).page())
		}
	})
	items = append(items, u.settingsButton)
	if u.opt.OnLanguage != nil {
		other := "en"
		if u.opt.Language == "en" {
			other = "fr"
		}
		// Switching rebuilds the screens: leaving the page, E6 asks.
		u.languageButton = u.button(lang.L("toolbar.language"), nil, func() { u.leaveTop(func() { u.opt.OnLanguage(other) }) })
		items = append(items, u.languageButton)
	}
	var buttons []*button
	for _, o := range items {
		b := o.(*button)
		b.onFocus = nil // above the page, always in view
		buttons = append(buttons, b)
	}
	u.menuButton = u.newMenuButton()
	u.menuButton.onFocus = nil
	u.menuButton.OnTapped = func() { u.toolbarMenu(u.menuButton, buttons) }
	l := &foldingLayout{icon: widget.NewIcon(resources.Icon), name: widget.NewLabel(lang.L("app.name")), items: buttons, menu: u.menuButton}
	return container.New(l, append([]fyne.CanvasObject{l.icon, l.name, u.menuButton}, items...)...)
}

// show pushes p and displays it.
func (u *UI) show(p *page) {
	u.stack = append(u.stack, p)
	u.display()
}

// back returns to the previous page, if the current one lets it.
func (u *UI) back() {
	if len(u.stack) < 2 {
		return
	}
	u.leaveTop(func() {
		u.stack = u.stack[:len(u.stack)-1]
		u.display()
	})
}

// home forgets the stack and shows the home page.
func (u *UI) home() {
	u.leaveTop(func() {
		u.stack = nil
		u.show(newHome(u).page())
	})
}

// replace swaps the current page for p (a step that must not be
// returned to, like a spent form).
func (u *UI) replace(p *page) {
	if len(u.stack) > 0 {
		u.stack = u.stack[:len(u.stack)-1]
	}
	u.show(p)
}

func (u *UI) leaveTop(proceed func()) {
	if len(u.stack) > 0 && u.stack[len(u.stack)-1].leave != nil {
		u.stack[len(u.stack)-1].leave(proceed)
		return
	}
	proceed()
}

func (u *UI) top() *page {
	if len(u.stack) == 0 {
		return nil
	}
	return u.stack[len(u.stack)-1]
}

func (u *UI) display() {
	p := u.top()
	u.win.SetTitle(lang.X("window.title", "{{.Page}} – consulvote", map[string]any{"Page": p.title}))
	u.backButton = nil
	u.summary = newMessage()
	var head []fyne.CanvasObject
	if len(u.stack) > 1 {
		// A visible way back on every page but the first.
		u.backButton = u.button(lang.L("common.back"), theme.NavigateBackIcon(), u.back)
		u.backButton.Importance = widget.LowImportance
		head = append(head, container.NewHBox(u.backButton))
	}
	head = append(head, u.summary.label)
	content := container.NewBorder(container.NewVBox(head...), nil, nil, nil, p.content)
	u.scroll = container.NewVScroll(container.NewPadded(content))
	u.body.Objects = []fyne.CanvasObject{u.scroll}
	u.body.Refresh()
	switch {
	case p.focus != nil:
		u.win.Canvas().Focus(p.focus)
	case u.backButton != nil:
		u.win.Canvas().Focus(u.backButton)
	}
}

// reveal scrolls the page so that objs (parts of one thing on the page,
// top to bottom) are in view: the keyboard's focus must never land out of
// sight. When they do not all fit, the first ones give way: a field's
// label before the field and its message.
func (u *UI) reveal(objs ...fyne.CanvasObject) {
	if u.scroll == nil || u.scroll.Content == nil || len(objs) == 0 {
		return
	}
	u.settle()
	revealIn(u.scroll, objs...)
}

// revealLines scrolls the page so that height units of o from top are in
// view (a text's lines).
func (u *UI) revealLines(o fyne.CanvasObject, top, height float32) {
	if u.scroll == nil || u.scroll.Content == nil {
		return
	}
	u.settle()
	p, ok := positionIn(u.scroll.Content, o)
	if !ok {
		return
	}
	scrollToShow(u.scroll, p.Y+top, p.Y+top+height)
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
func (u *UI) settle() {
	c := u.scroll.Content
	size := u.scroll.Size()
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

func (u *UI) help() {
	if p := u.top(); p != nil {
		if _, ok := p.screen.(*helpScreen); ok {
			return
		}
	}
	u.show(newHelp(u).page())
}

func (u *UI) outbox() {
	if p := u.top(); p != nil {
		if _, ok := p.screen.(*outboxScreen); ok {
			return
		}
	}
	u.show(newOutbox(u).page())
}

// OpenLink shows the link page for a link given on the command line or
// clicked in the demo outbox.
func (u *UI) OpenLink(link string) {
	s := newPaste(u)
	u.show(s.page())
	s.link.entry.SetText(link)
	s.open.submit()
}

// call runs work off the UI goroutine with a timeout and hands its result
// to done on the UI goroutine.
func call[T any](u *UI, work func(ctx context.Context) (T, error), done func(T, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), u.opt.CallTimeout)
	callCtx(u, ctx, func(ctx context.Context) (T, error) { defer cancel(); return work(ctx) }, done)
}

// callCtx is call under ctx, for long work the user may cancel.
func callCtx[T any](u *UI, ctx context.Context, work func(ctx context.Context) (T, error), done func(T, error)) {
	u.tasks.Add(1)
	go func() {
		defer u.tasks.Done()
		v, err := work(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = portal.ErrUnavailable
		}
		u.post(func() { done(v, err) })
	}()
}

// formatTime writes t in the user's local time and language.
func formatTime(t time.Time) string {
	return t.Local().Format(lang.L("format.datetime"))
}
