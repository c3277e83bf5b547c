package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// pasteScreen is "J'ai reçu le courriel": the voter pastes the link.
type pasteScreen struct {
	u     *UI
	link  *ui.Field
	open  *ui.Submit
	msg   *ui.Message
	again *ui.Button
}

func newPaste(u *UI) *pasteScreen {
	s := &pasteScreen{u: u, link: u.NewField("field.link", "field.link.help", false), msg: ui.NewMessage()}
	s.open = u.NewSubmit("paste.submit", s.submit)
	s.open.SubmitOn(s.link.Entry)
	s.again = u.Button(lang.L("action.request_new"), nil, func() { u.Replace(newRequest(u).page()) })
	s.again.Hide()
	return s
}

func (s *pasteScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("paste.title")),
		ui.Wrapped(lang.L("paste.text")),
		s.link.Object(), s.msg.Label, container.NewHBox(s.open.Object(), s.again),
	)
	return &ui.Page{Title: lang.L("paste.page"), Content: c, Focus: s.link.Entry, Screen: s}
}

func (s *pasteScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	s.again.Hide()
	text := strings.TrimSpace(s.link.Entry.Text)
	if text == "" {
		s.link.SetError(lang.L("err.link.required"))
		return
	}
	if _, err := portal.ParseLinkToken(text); err != nil {
		s.link.SetError(lang.L("err.link.format"))
		return
	}
	s.link.SetError("")
	s.open.Busy(true)
	ui.Call(s.u.calls, func(ctx context.Context) (portal.LinkStatus, error) {
		return s.u.portal.InspectLink(ctx, text)
	}, func(st portal.LinkStatus, err error) {
		s.open.Busy(false)
		if err == nil {
			err = st.Err()
		}
		if err != nil {
			s.msg.Set(s.u.errorText(err), widget.DangerImportance)
			if isLinkError(err) {
				s.again.Show()
			}
			return
		}
		s.u.Replace(newConfirm(s.u, text, st).page())
	})
}
