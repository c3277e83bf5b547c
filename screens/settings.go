package screens

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// BackendPreference is the app preference holding the backend URL set in
// the settings screen ("" for local data); main reads it at start.
const BackendPreference = "backend"

// settingsScreen sets the backend the app talks to.
type settingsScreen struct {
	u       *UI
	backend *ui.Field
	save    *ui.Button
	msg     *ui.Message
}

func newSettings(u *UI) *settingsScreen {
	s := &settingsScreen{u: u, backend: u.NewField("field.backend", "field.backend.help", false), msg: ui.NewMessage()}
	s.backend.Entry.SetText(u.app.Preferences().String(BackendPreference))
	s.backend.Entry.OnSubmitted = func(string) { s.submit() }
	s.save = u.Button(lang.L("settings.save"), nil, s.submit)
	s.save.Importance = widget.HighImportance
	return s
}

func (s *settingsScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("settings.title")),
		ui.Wrapped(lang.L("settings.text")),
		ui.Wrapped(lang.X("settings.current", "", map[string]any{"Backend": s.u.opt.Backend})),
		s.backend.Object(), s.msg.Label, container.NewHBox(s.save),
	)
	return &ui.Page{Title: lang.L("settings.page"), Content: c, Focus: s.backend.Entry, Screen: s}
}

func (s *settingsScreen) submit() {
	v := strings.TrimSpace(s.backend.Entry.Text)
	var bad *portal.ServiceURLError
	if v != "" && errors.As(portal.CheckServiceURL(v), &bad) {
		// Said in the field and the page's summary, focused.
		s.backend.SetError(lang.L("err.backend." + string(bad.Problem)))
		s.u.Summarize([]*ui.Field{s.backend})
		s.msg.Set("", widget.MediumImportance)
		return
	}
	s.backend.SetError("")
	s.u.Summarize(nil)
	s.u.app.Preferences().SetString(BackendPreference, v)
	s.msg.Set(lang.L("settings.saved"), widget.SuccessImportance)
}
