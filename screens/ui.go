// Package screens is the app's window and the voter's screens, drawn with
// Fyne on the widgets of screens/ui: the home page and login, the
// renewals of the identifier and of the password, the voter's space, help
// and settings. It mounts the consular office's screens (package
// screens/office) behind the toolbar's "Espace consulat". It knows the
// portal contract and nothing of how the portal is served: every action
// is a call to a portal.Portal, run off the UI goroutine by ui.Call.
package screens

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/resources"
	"consulvote/screens/office"
	"consulvote/screens/ui"
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
	// Nav shows the pages, one at a time.
	*ui.Nav
	app    fyne.App
	win    fyne.Window
	portal portal.Portal
	opt    Options

	// reader presents the window to screen readers.
	reader *ui.ReaderTree

	helpButton, messagesButton, languageButton, settingsButton, officeButton *ui.Button
	// menuButton holds the toolbar's buttons when the window is narrow.
	menuButton *ui.Button
	foldedMenu *fyne.Menu // the menu it opened last

	// office is the "Espace consulat", nil without opt.Office.
	office *office.UI

	// calls runs the portal calls off the UI goroutine.
	calls *ui.Calls
}

// New builds the UI in w and shows the home page.
func New(a fyne.App, w fyne.Window, p portal.Portal, opt Options) *UI {
	u := &UI{app: a, win: w, portal: p, opt: opt, calls: &ui.Calls{Timeout: opt.CallTimeout}}
	u.Nav = ui.NewNav(w, func() *ui.Page { return newHome(u).page() })
	if opt.Office != nil {
		u.office = office.New(w, u.Nav, u.calls, office.Options{Office: opt.Office, RollAdmin: opt.RollAdmin, Assistance: opt.Assistance})
	}
	a.Settings().SetTheme(ui.Theme{})

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
	u.reader, shown = ui.NewReaderTree(w.Canvas(), container.NewBorder(container.NewVBox(top...), bottom, nil, nil, u.Body()))
	w.SetContent(shown)
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.Escape()
		}
	})
	// Closing the window is leaving the page: E6 asks first.
	w.SetCloseIntercept(u.closeWindow)
	u.Home()
	return u
}

// closeWindow is the window's close button: leaving the page, E6 asks.
func (u *UI) closeWindow() { u.LeaveTop(u.win.Close) }

func demoBanner() fyne.CanvasObject {
	l := widget.NewLabelWithStyle(lang.L("banner.demo"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = widget.WarningImportance
	l.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, l)
}

func (u *UI) toolbar() fyne.CanvasObject {
	u.helpButton = u.Button(lang.L("toolbar.help"), theme.HelpIcon(), u.help)
	items := []fyne.CanvasObject{u.helpButton}
	if u.opt.Outbox != nil {
		u.messagesButton = u.Button(lang.L("toolbar.messages"), theme.MailComposeIcon(), u.outbox)
		items = append(items, u.messagesButton)
	}
	if u.opt.Office != nil {
		u.officeButton = u.Button(lang.L("toolbar.office"), theme.AccountIcon(), u.office.Open)
		items = append(items, u.officeButton)
	}
	u.settingsButton = u.Button(lang.L("toolbar.settings"), theme.SettingsIcon(), func() {
		if _, ok := u.Top().Screen.(*settingsScreen); !ok {
			u.Show(newSettings(u).page())
		}
	})
	items = append(items, u.settingsButton)
	if u.opt.OnLanguage != nil {
		other := "en"
		if u.opt.Language == "en" {
			other = "fr"
		}
		// Switching rebuilds the screens: leaving the page, E6 asks.
		u.languageButton = u.Button(lang.L("toolbar.language"), nil, func() { u.LeaveTop(func() { u.opt.OnLanguage(other) }) })
		items = append(items, u.languageButton)
	}
	var buttons []*ui.Button
	for _, o := range items {
		b := o.(*ui.Button)
		b.OnFocus = nil // above the page, always in view
		buttons = append(buttons, b)
	}
	u.menuButton = u.newMenuButton()
	u.menuButton.OnFocus = nil
	u.menuButton.OnTapped = func() { u.toolbarMenu(u.menuButton, buttons) }
	return ui.Folding(widget.NewIcon(resources.SmallIcon), widget.NewLabel(lang.L("app.name")), u.menuButton, buttons)
}

// toolbarMenu opens the folded toolbar's buttons as a menu under menu.
func (u *UI) toolbarMenu(menu *ui.Button, items []*ui.Button) {
	var entries []*fyne.MenuItem
	for _, b := range items {
		entries = append(entries, fyne.NewMenuItem(b.Label, b.OnTapped))
	}
	u.foldedMenu = fyne.NewMenu("", entries...)
	m := widget.NewPopUpMenu(u.foldedMenu, u.win.Canvas())
	m.ShowAtRelativePosition(fyne.NewPos(0, menu.Size().Height), menu)
}

func (u *UI) newMenuButton() *ui.Button {
	return u.Button(lang.L("toolbar.menu"), theme.MenuIcon(), nil)
}

func (u *UI) help() {
	if p := u.Top(); p != nil {
		if _, ok := p.Screen.(*helpScreen); ok {
			return
		}
	}
	u.Show(newHelp(u).page())
}

func (u *UI) outbox() {
	if p := u.Top(); p != nil {
		if _, ok := p.Screen.(*outboxScreen); ok {
			return
		}
	}
	u.Show(newOutbox(u).page())
}

// OpenLink shows the link page for a link given on the command line or
// clicked in the demo outbox.
func (u *UI) OpenLink(link string) {
	s := newPaste(u)
	u.Show(s.page())
	s.link.Entry.SetText(link)
	s.open.Submit()
}
