package screens

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// BackendPreference is the app preference holding the backend URL set in
// the settings screen ("" for local data); main reads it at start.
const BackendPreference = "backend"

// settingsScreen sets the backend the app talks to.
type settingsScreen struct {
	u       *UI
	backend *field
	save    *button
	msg     *message
}

func newSettings(u *UI) *settingsScreen {
	s := &settingsScreen{u: u, backend: newField(u, "field.backend", "field.backend.help", false), msg: newMessage()}
	s.backend.entry.SetText(u.app.Preferences().String(BackendPreference))
	s.backend.entry.OnSubmitted = func(string) { s.submit() }
	s.save = u.button(lang.L("settings.save"), nil, s.submit)
	s.save.Importance = widget.HighImportance
	return s
}

func (s *settingsScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("settings.title")),
		wrapped(lang.L("settings.text")),
		wrapped(lang.X("settings.current", "", map[string]any{"Backend": s.u.opt.Backend})),
		s.backend.object(), s.msg.label, container.NewHBox(s.save),
	)
	return &page{title: lang.L("settings.page"), content: c, focus: s.backend.entry, screen: s}
}

func (s *settingsScreen) submit() {
	v := strings.TrimSpace(s.backend.entry.Text)
	var bad *portal.ServiceURLError
	if v != "" && errors.As(portal.CheckServiceURL(v), &bad) {
		// Said in the field and the page's summary, focused.
		s.backend.setError(lang.L("err.backend." + string(bad.Problem)))
		s.u.summarize([]*field{s.backend})
		s.msg.set("", widget.MediumImportance)
		return
	}
	s.backend.setError("")
	s.u.summarize(nil)
	s.u.app.Preferences().SetString(BackendPreference, v)
	s.msg.set(lang.L("settings.saved"), widget.SuccessImportance)
}
