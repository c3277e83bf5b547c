package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// passwordScreen is "Mot de passe perdu ou non reçu": identifier, NUMIC
// and security code; the new password goes by SMS.
type passwordScreen struct {
	u          *UI
	identifier *ui.Field
	numic      *ui.Field
	code       *codeField
	send       *ui.Submit
	msg        *ui.Message
	fields     map[portal.Field]*ui.Field
}

func newPassword(u *UI) *passwordScreen {
	s := &passwordScreen{
		u:          u,
		identifier: u.NewField("field.identifier", "field.identifier.help", false),
		numic:      u.NewField("field.numic", "field.numic.help", false),
		code:       newCodeField(u),
		msg:        ui.NewMessage(),
	}
	s.send = u.NewSubmit("password.submit", s.submit)
	s.send.SubmitOn(s.identifier.Entry, s.numic.Entry, s.code.Entry)
	s.fields = map[portal.Field]*ui.Field{portal.FieldIdentifier: s.identifier, portal.FieldNUMIC: s.numic, portal.FieldCode: s.code.Field}
	return s
}

func (s *passwordScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("password.title")),
		ui.Wrapped(lang.L("password.intro")),
		ui.Wrapped(lang.L("request.not_both")),
		widget.NewSeparator(),
		s.identifier.Object(), s.numic.Object(), s.code.Object(),
		s.msg.Label, s.send.Object(),
	)
	return &ui.Page{Title: lang.L("password.page"), Content: c, Focus: s.identifier.Entry, Screen: s}
}

func (s *passwordScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	req := portal.PasswordRenewalRequest{
		Identifier: s.identifier.Entry.Text, NUMIC: s.numic.Entry.Text, CodeID: s.code.id, Code: s.code.Entry.Text,
	}.Normalize()
	if err := req.Validate(nil); err != nil {
		s.u.showFieldErrors(err, s.fields)
		return
	}
	s.u.showFieldErrors(nil, s.fields)
	s.send.Busy(true)
	call(s.u, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.u.portal.RequestPasswordRenewal(ctx, req)
	}, func(_ struct{}, err error) {
		s.send.Busy(false)
		if err != nil {
			s.u.formFailed(err, s.code, s.fields, s.msg, func(err error) string {
				if errors.Is(err, portal.ErrRenewalConflict) {
					return s.u.passwordConflictText(err)
				}
				return s.u.errorText(err)
			})
			return
		}
		s.u.Replace(newPasswordSent(s.u).page())
	})
}
