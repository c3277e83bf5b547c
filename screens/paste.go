package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// pasteScreen is "J'ai reçu le courriel": the voter pastes the link.
type pasteScreen struct {
	u     *UI
	link  *field
	open  *submitButton
	msg   *message
	again *button
}

func newPaste(u *UI) *pasteScreen {
	s := &pasteScreen{u: u, link: newField(u, "field.link", "field.link.help", false), msg: newMessage()}
	s.open = u.newSubmit("paste.submit", s.submit)
	s.open.submitOn(s.link.entry)
	s.again = u.button(lang.L("action.request_new"), nil, func() { u.replace(newRequest(u).page()) })
	s.again.Hide()
	return s
}

func (s *pasteScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("paste.title")),
		wrapped(lang.L("paste.text")),
		s.link.object(), s.msg.label, container.NewHBox(s.open.object(), s.again),
	)
	return &page{title: lang.L("paste.page"), content: c, focus: s.link.entry, screen: s}
}

func (s *pasteScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	s.again.Hide()
	text := strings.TrimSpace(s.link.entry.Text)
	if text == "" {
		s.link.setError(lang.L("err.link.required"))
		return
	}
	if _, err := portal.ParseLinkToken(text); err != nil {
		s.link.setError(lang.L("err.link.format"))
		return
	}
	s.link.setError("")
	s.open.busy(true)
	call(s.u, func(ctx context.Context) (portal.LinkStatus, error) {
		return s.u.portal.InspectLink(ctx, text)
	}, func(st portal.LinkStatus, err error) {
		s.open.busy(false)
		if err == nil {
			err = st.Err()
		}
		if err != nil {
			s.msg.set(s.u.errorText(err), widget.DangerImportance)
			if isLinkError(err) {
				s.again.Show()
			}
			return
		}
		s.u.replace(newConfirm(s.u, text, st).page())
	})
}
