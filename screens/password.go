package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2/lang"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// passwordScreen is "Mot de passe perdu ou non reçu": identifier, NUMIC
// and security code; the new password goes by SMS.
type passwordScreen struct {
	*codeForm
	identifier *ui.Field
	numic      *ui.Field
}

func newPassword(u *UI) *passwordScreen {
	s := &passwordScreen{
		identifier: u.NewField("field.identifier", "field.identifier.help", false),
		numic:      u.NewField("field.numic", "field.numic.help", false),
	}
	s.codeForm = newCodeForm(u, "password.submit", map[portal.Field]*ui.Field{portal.FieldIdentifier: s.identifier, portal.FieldNUMIC: s.numic}, s.identifier, s.numic)
	s.prepare = s.request
	s.failText = func(err error) string {
		if errors.Is(err, portal.ErrRenewalConflict) {
			return u.passwordConflictText(err)
		}
		return u.errorText(err)
	}
	s.sent = func() *ui.Page { return newPasswordSent(u).page() }
	return s
}

func (s *passwordScreen) page() *ui.Page {
	return s.codeForm.page(s, "password.page", "password.title",
		ui.Wrapped(lang.L("password.intro")),
		ui.Wrapped(lang.L("request.not_both")))
}

// request is the request typed, checked, and the call that sends it.
func (s *passwordScreen) request() (func(context.Context) error, error) {
	req := portal.PasswordRenewalRequest{
		Identifier: s.identifier.Entry.Text, NUMIC: s.numic.Entry.Text, CodeID: s.code.id, Code: s.code.Entry.Text,
	}.Normalize()
	return func(ctx context.Context) error { return s.u.portal.RequestPasswordRenewal(ctx, req) }, req.Validate(nil)
}
