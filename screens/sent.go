package screens

import (
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sentScreen is E3, shown the same whether or not the NUMIC and e-mail
// matched a voter.
type sentScreen struct {
	u        *UI
	haveMail *button
	home     *button
}

func newSent(u *UI) *sentScreen {
	s := &sentScreen{u: u}
	s.haveMail = u.button(lang.L("home.have_mail"), theme.MailAttachmentIcon(), func() { u.show(newPaste(u).page()) })
	s.haveMail.Importance = widget.HighImportance
	s.home = u.button(lang.L("common.home"), nil, u.home)
	return s
}

func (s *sentScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("sent.title")),
		wrapped(lang.L("sent.text")),
		wrapped(lang.L("sent.text2")),
		wrapped(lang.L("sent.next")),
		wrapped(lang.L("sent.desk")),
		container.NewHBox(s.haveMail, s.home),
	)
	return &page{title: lang.L("sent.page"), content: c, focus: s.haveMail, screen: s}
}
