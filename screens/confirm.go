package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// confirmScreen is E5: the link opened, the SMS password and a code.
type confirmScreen struct {
	u        *UI
	link     string
	status   portal.LinkStatus
	password *field
	code     *codeField
	validate *submitButton
	msg      *message
	again    *button
	fields   map[portal.Field]*field
}

func newConfirm(u *UI, link string, st portal.LinkStatus) *confirmScreen {
	s := &confirmScreen{
		u: u, link: link, status: st,
		password: newField(u, "field.password", "field.password.help", true),
		code:     newCodeField(u),
		msg:      newMessage(),
	}
	s.validate = u.newSubmit("link.submit", s.submit)
	s.validate.submitOn(s.password.entry, s.code.entry)
	s.again = u.button(lang.L("action.request_new"), nil, func() { u.replace(newRequest(u).page()) })
	s.again.Hide()
	s.fields = map[portal.Field]*field{portal.FieldPassword: s.password, portal.FieldCode: s.code.field}
	return s
}

func (s *confirmScreen) page() *page {
	c := container.NewVBox(heading(lang.L("link.title")), wrapped(lang.L("link.text")))
	if !s.status.ExpiresAt.IsZero() {
		l := wrapped(lang.X("link.expires", "", map[string]any{"Time": formatTime(s.status.ExpiresAt)}))
		l.Importance = widget.LowImportance
		c.Add(l)
	}
	c.Add(widget.NewSeparator())
	c.Add(s.password.object())
	c.Add(s.code.object())
	c.Add(s.msg.label)
	c.Add(container.NewHBox(s.validate.object(), s.again))
	return &page{title: lang.L("link.page"), content: c, focus: s.password.entry, screen: s}
}

func (s *confirmScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	req := portal.ConfirmRequest{Link: s.link, Password: s.password.entry.Text, CodeID: s.code.id, Code: s.code.entry.Text}
	if err := req.Validate(); err != nil {
		s.u.showFieldErrors(err, s.fields)
		return
	}
	s.u.showFieldErrors(nil, s.fields)
	s.validate.busy(true)
	call(s.u, func(ctx context.Context) (portal.Renewal, error) {
		return s.u.portal.ConfirmIdentifierRenewal(ctx, req)
	}, func(r portal.Renewal, err error) {
		s.validate.busy(false)
		if err == nil {
			s.u.replace(newIdentifier(s.u, r).page())
			return
		}
		s.password.entry.SetText("")
		if isLinkError(err) {
			s.msg.set(s.u.errorText(err), widget.DangerImportance)
			s.dead()
			return
		}
		s.code.load() // every attempt spends its code
		switch {
		case errors.Is(err, portal.ErrSecurityCodeExpired):
			s.code.setError(s.u.errorText(err))
			s.u.summarize([]*field{s.code.field})
		case s.u.showFieldErrors(err, s.fields):
		default:
			s.msg.set(s.u.errorText(err), widget.DangerImportance)
			s.u.failed(s.password, s.msg.label, s.msg.label)
		}
	})
}

// dead is the form once its link cannot be used (used, expired, locked…):
// its fields are read-only and the focus is on the way out, which says
// why, with the message in view.
func (s *confirmScreen) dead() {
	s.validate.button.Disable()
	s.password.entry.Disable()
	s.password.reveal.Disable()
	s.code.entry.Disable()
	s.code.refresh.Disable()
	s.code.listen.Disable()
	s.again.label = s.again.Text + " — " + s.msg.label.Text
	s.again.Show()
	s.u.win.Canvas().Focus(s.again)
	s.u.reveal(s.msg.label, s.again)
}
