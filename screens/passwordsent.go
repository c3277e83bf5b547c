package screens

import (
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/screens/ui"
)

// passwordSentScreen confirms a password request, the same whether or not
// the identifier and NUMIC matched.
type passwordSentScreen struct {
	u    *UI
	home *ui.Button
}

func newPasswordSent(u *UI) *passwordSentScreen {
	s := &passwordSentScreen{u: u, home: u.Button(lang.L("common.home"), nil, u.Home)}
	s.home.Importance = widget.HighImportance
	return s
}

func (s *passwordSentScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("password_sent.title")),
		ui.Wrapped(lang.L("password_sent.text")),
		ui.Wrapped(lang.X("password_sent.no_sms", "", map[string]any{"Contact": s.u.opt.Assistance})),
		ui.Wrapped(lang.L("password_sent.desk")),
		container.NewHBox(s.home),
	)
	return &ui.Page{Title: lang.L("password_sent.page"), Content: c, Focus: s.home, Screen: s}
}
