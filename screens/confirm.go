package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// confirmScreen is E5: the link opened, the SMS password and a code.
type confirmScreen struct {
	u        *UI
	link     string
	status   portal.LinkStatus
	password *ui.Field
	code     *codeField
	validate *ui.Submit
	msg      *ui.Message
	again    *ui.Button
	fields   map[portal.Field]*ui.Field
}

func newConfirm(u *UI, link string, st portal.LinkStatus) *confirmScreen {
	s := &confirmScreen{
		u: u, link: link, status: st,
		password: u.NewField("field.password", "field.password.help", true),
		code:     newCodeField(u),
		msg:      ui.NewMessage(),
	}
	s.validate = u.NewSubmit("link.submit", s.submit)
	s.validate.SubmitOn(s.password.Entry, s.code.Entry)
	s.again = u.Button(lang.L("action.request_new"), nil, func() { u.Replace(newRequest(u).page()) })
	s.again.Hide()
	s.fields = map[portal.Field]*ui.Field{portal.FieldPassword: s.password, portal.FieldCode: s.code.Field}
	return s
}

func (s *confirmScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("link.title")), ui.Wrapped(lang.L("link.text")))
	if !s.status.ExpiresAt.IsZero() {
		l := ui.Wrapped(lang.X("link.expires", "", map[string]any{"Time": words.Time(s.status.ExpiresAt)}))
		l.Importance = widget.LowImportance
		c.Add(l)
	}
	c.Add(widget.NewSeparator())
	c.Add(s.password.Object())
	c.Add(s.code.Object())
	c.Add(s.msg.Label)
	c.Add(container.NewHBox(s.validate.Object(), s.again))
	return &ui.Page{Title: lang.L("link.page"), Content: c, Focus: s.password.Entry, Screen: s}
}

func (s *confirmScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	req := portal.ConfirmRequest{Link: s.link, Password: s.password.Entry.Text, CodeID: s.code.id, Code: s.code.Entry.Text}
	if err := req.Validate(); err != nil {
		s.u.showFieldErrors(err, s.fields)
		return
	}
	s.u.showFieldErrors(nil, s.fields)
	s.validate.Busy(true)
	ui.Call(s.u.calls, func(ctx context.Context) (portal.Renewal, error) {
		return s.u.portal.ConfirmIdentifierRenewal(ctx, req)
	}, func(r portal.Renewal, err error) {
		s.validate.Busy(false)
		if err == nil {
			s.u.Replace(newIdentifier(s.u, r).page())
			return
		}
		s.password.Entry.SetText("")
		if isLinkError(err) {
			s.msg.Set(s.u.errorText(err), widget.DangerImportance)
			s.dead()
			return
		}
		s.code.load() // every attempt spends its code
		switch {
		case errors.Is(err, portal.ErrSecurityCodeExpired):
			s.code.SetError(s.u.errorText(err))
			s.u.Summarize([]*ui.Field{s.code.Field})
		case s.u.showFieldErrors(err, s.fields):
		default:
			s.msg.Set(s.u.errorText(err), widget.DangerImportance)
			s.u.Failed(s.password, s.msg.Label, s.msg.Label)
		}
	})
}

// dead is the form once its link cannot be used (used, expired, locked…):
// its fields are read-only and the focus is on the way out, which says
// why, with the message in view.
func (s *confirmScreen) dead() {
	s.validate.Button.Disable()
	s.password.Entry.Disable()
	s.password.Reveal.Disable()
	s.code.Entry.Disable()
	s.code.refresh.Disable()
	s.code.listen.Disable()
	s.again.Label = s.again.Text + " — " + s.msg.Label.Text
	s.again.Show()
	s.u.win.Canvas().Focus(s.again)
	s.u.Reveal(s.msg.Label, s.again)
}
