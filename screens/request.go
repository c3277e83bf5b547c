package screens

import (
	"context"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// requestScreen is E2: NUMIC, e-mail and security code, to get a link.
type requestScreen struct {
	u      *UI
	numic  *ui.Field
	email  *ui.Field
	code   *codeField
	send   *ui.Submit
	msg    *ui.Message
	fields map[portal.Field]*ui.Field
}

func newRequest(u *UI) *requestScreen {
	s := &requestScreen{
		u:     u,
		numic: u.NewField("field.numic", "field.numic.help", false),
		email: u.NewField("field.email", "field.email.help", false),
		code:  newCodeField(u),
		msg:   ui.NewMessage(),
	}
	s.send = u.NewSubmit("request.submit", s.submit)
	s.send.SubmitOn(s.numic.Entry, s.email.Entry, s.code.Entry)
	s.fields = map[portal.Field]*ui.Field{portal.FieldNUMIC: s.numic, portal.FieldEmail: s.email, portal.FieldCode: s.code.Field}
	return s
}

func (s *requestScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("request.title")),
		widget.NewLabel(lang.L("request.subtitle")),
		ui.Wrapped(lang.L("request.intro")),
		ui.Wrapped(lang.L("request.not_both")),
		widget.NewSeparator(),
		s.numic.Object(), s.email.Object(), s.code.Object(),
		s.msg.Label, s.send.Object(),
	)
	return &ui.Page{Title: lang.L("request.page"), Content: c, Focus: s.numic.Entry, Screen: s}
}

func (s *requestScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	req := portal.IdentifierRenewalRequest{
		NUMIC: s.numic.Entry.Text, Email: s.email.Entry.Text, CodeID: s.code.id, Code: s.code.Entry.Text,
	}.Normalize()
	// Check here what can be checked here; the portal checks it all again.
	if err := req.Validate(nil); err != nil {
		s.u.showFieldErrors(err, s.fields)
		return
	}
	s.u.showFieldErrors(nil, s.fields)
	s.send.Busy(true)
	call(s.u, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.u.portal.RequestIdentifierRenewal(ctx, req)
	}, func(_ struct{}, err error) {
		s.send.Busy(false)
		if err != nil {
			s.u.formFailed(err, s.code, s.fields, s.msg, s.u.errorText)
			return
		}
		s.u.Replace(newSent(s.u).page())
	})
}
