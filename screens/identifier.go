package screens

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// identifierScreen is E6: the new identifier, shown once.
type identifierScreen struct {
	u          *UI
	renewal    portal.Renewal
	identifier *widget.Label
	copyBtn    *button
	save       *button
	home       *button
	msg        *message
	kept       bool // copied or saved: leaving needs no warning
}

func newIdentifier(u *UI, r portal.Renewal) *identifierScreen {
	s := &identifierScreen{u: u, renewal: r, msg: newMessage()}
	s.identifier = widget.NewLabelWithStyle(r.Identifier, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	s.identifier.SizeName = theme.SizeNameHeadingText
	s.identifier.Selectable = true
	s.copyBtn = u.button(lang.L("identifier.copy"), theme.ContentCopyIcon(), s.copy)
	s.copyBtn.Importance = widget.HighImportance
	s.save = u.button(lang.L("identifier.save"), theme.DocumentSaveIcon(), s.saveToKeychain)
	s.home = u.button(lang.L("common.home"), nil, u.home)
	return s
}

func (s *identifierScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("identifier.intro")),
		s.identifier,
		wrapped(lang.L("identifier.keep")),
		container.NewHBox(s.copyBtn, s.save),
		s.msg.label,
		widget.NewSeparator(),
		container.NewHBox(s.home),
	)
	return &page{title: lang.L("identifier.page"), content: c, focus: s.copyBtn, screen: s, leave: s.leave}
}

func (s *identifierScreen) copy() {
	s.u.app.Clipboard().SetContent(s.renewal.Identifier)
	s.kept = true
	s.msg.set(lang.L("identifier.copied"), widget.SuccessImportance)
}

func (s *identifierScreen) saveToKeychain() {
	if s.u.opt.Keychain == nil {
		s.msg.set(lang.L("identifier.no_keychain"), widget.WarningImportance)
		return
	}
	s.save.Disable()
	call(s.u, func(context.Context) (struct{}, error) {
		return struct{}{}, s.u.opt.Keychain.Save(s.renewal.NUMIC, s.renewal.Identifier)
	}, func(_ struct{}, err error) {
		s.save.Enable()
		if err != nil {
			s.msg.set(lang.L("identifier.no_keychain"), widget.WarningImportance)
			return
		}
		rememberNUMIC(s.u.app, s.renewal.NUMIC)
		s.kept = true
		s.msg.set(lang.L("identifier.saved"), widget.SuccessImportance)
	})
}

// leave warns before the identifier is gone for good, unless it was
// copied or saved.
func (s *identifierScreen) leave(proceed func()) {
	if s.kept {
		proceed()
		return
	}
	s.u.ask(lang.L("identifier.leave_title"), lang.L("identifier.leave_text"),
		lang.L("identifier.leave_no"), lang.L("identifier.leave_yes"), func() {
			s.kept = true
			proceed()
		})
}
