package screens

import (
	"consulvote/screens/ui"

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

func (s *helpScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("help.title")),
		ui.Wrapped(lang.L("help.steps")),
		ui.Wrapped(lang.L("help.not_both")),
		widget.NewSeparator(),
		ui.Heading(lang.L("help.contact_title")),
		ui.Wrapped(lang.X("help.contact", "", map[string]any{"Contact": s.u.opt.Assistance})),
	)
	// The focus starts on the navigator's "Retour".
	return &ui.Page{Title: lang.L("help.page"), Content: c, Screen: s}
}
