package screens

import (
	"consulvote/screens/ui"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sentScreen is E3, shown the same whether or not the NUMIC and e-mail
// matched a voter.
type sentScreen struct {
	u        *UI
	haveMail *ui.Button
	home     *ui.Button
}

func newSent(u *UI) *sentScreen {
	s := &sentScreen{u: u}
	s.haveMail = u.Button(lang.L("home.have_mail"), theme.MailAttachmentIcon(), func() { u.Show(newPaste(u).page()) })
	s.haveMail.Importance = widget.HighImportance
	s.home = u.Button(lang.L("common.home"), nil, u.Home)
	return s
}

func (s *sentScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("sent.title")),
		ui.Wrapped(lang.L("sent.text")),
		ui.Wrapped(lang.L("sent.text2")),
		ui.Wrapped(lang.L("sent.next")),
		ui.Wrapped(lang.L("sent.desk")),
		container.NewHBox(s.haveMail, s.home),
	)
	return &ui.Page{Title: lang.L("sent.page"), Content: c, Focus: s.haveMail, Screen: s}
}
