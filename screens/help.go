package screens

import (
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// helpScreen is "Aide": the steps of the seed and the assistance cell.
type helpScreen struct {
	u *UI
}

func newHelp(u *UI) *helpScreen {
	return &helpScreen{u: u}
}

func (s *helpScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("help.title")),
		wrapped(lang.L("help.steps")),
		wrapped(lang.L("help.not_both")),
		widget.NewSeparator(),
		heading(lang.L("help.contact_title")),
		wrapped(lang.X("help.contact", "", map[string]any{"Contact": s.u.opt.Assistance})),
	)
	// The focus starts on the navigator's "Retour".
	return &page{title: lang.L("help.page"), content: c, screen: s}
}
