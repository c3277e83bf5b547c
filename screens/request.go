package screens

import (
	"context"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// requestScreen is E2: NUMIC, e-mail and security code, to get a link.
type requestScreen struct {
	*codeForm
	numic *ui.Field
	email *ui.Field
}

func newRequest(u *UI) *requestScreen {
	s := &requestScreen{
		numic: u.NewField("field.numic", "field.numic.help", false),
		email: u.NewField("field.email", "field.email.help", false),
	}
	s.codeForm = newCodeForm(u, "request.submit", map[portal.Field]*ui.Field{portal.FieldNUMIC: s.numic, portal.FieldEmail: s.email}, s.numic, s.email)
	s.prepare = s.request
	s.failText = u.errorText
	s.sent = func() *ui.Page { return newSent(u).page() }
	return s
}

func (s *requestScreen) page() *ui.Page {
	return s.codeForm.page(s, "request.page", "request.title",
		widget.NewLabel(lang.L("request.subtitle")),
		ui.Wrapped(lang.L("request.intro")),
		ui.Wrapped(lang.L("request.not_both")))
}

// request is the request typed, checked, and the call that sends it.
func (s *requestScreen) request() (func(context.Context) error, error) {
	req := portal.IdentifierRenewalRequest{
		NUMIC: s.numic.Entry.Text, Email: s.email.Entry.Text, CodeID: s.code.id, Code: s.code.Entry.Text,
	}.Normalize()
	return func(ctx context.Context) error { return s.u.portal.RequestIdentifierRenewal(ctx, req) }, req.Validate(nil)
}
