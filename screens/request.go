package screens

import (
	"context"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// requestScreen is E2: NUMIC, e-mail and security code, to get a link.
type requestScreen struct {
	u      *UI
	numic  *field
	email  *field
	code   *codeField
	send   *submitButton
	msg    *message
	fields map[portal.Field]*field
}

func newRequest(u *UI) *requestScreen {
	s := &requestScreen{
		u:     u,
		numic: newField(u, "field.numic", "field.numic.help", false),
		email: newField(u, "field.email", "field.email.help", false),
		code:  newCodeField(u),
		msg:   newMessage(),
	}
	s.send = u.newSubmit("request.submit", s.submit)
	s.send.submitOn(s.numic.entry, s.email.entry, s.code.entry)
	s.fields = map[portal.Field]*field{portal.FieldNUMIC: s.numic, portal.FieldEmail: s.email, portal.FieldCode: s.code.field}
	return s
}

func (s *requestScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("request.title")),
		widget.NewLabel(lang.L("request.subtitle")),
		wrapped(lang.L("request.intro")),
		wrapped(lang.L("request.not_both")),
		widget.NewSeparator(),
		s.numic.object(), s.email.object(), s.code.object(),
		s.msg.label, s.send.object(),
	)
	return &page{title: lang.L("request.page"), content: c, focus: s.numic.entry, screen: s}
}

func (s *requestScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	req := portal.IdentifierRenewalRequest{
		NUMIC: s.numic.entry.Text, Email: s.email.entry.Text, CodeID: s.code.id, Code: s.code.entry.Text,
	}.Normalize()
	// Check here what can be checked here; the portal checks it all again.
	if err := req.Validate(nil); err != nil {
		s.u.showFieldErrors(err, s.fields)
		return
	}
	s.u.showFieldErrors(nil, s.fields)
	s.send.busy(true)
	call(s.u, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.u.portal.RequestIdentifierRenewal(ctx, req)
	}, func(_ struct{}, err error) {
		s.send.busy(false)
		if err != nil {
			s.u.formFailed(err, s.code, s.fields, s.msg, s.u.errorText)
			return
		}
		s.u.replace(newSent(s.u).page())
	})
}
