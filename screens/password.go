package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// passwordScreen is "Mot de passe perdu ou non reçu": identifier, NUMIC
// and security code; the new password goes by SMS.
type passwordScreen struct {
	u          *UI
	identifier *field
	numic      *field
	code       *codeField
	send       *submitButton
	msg        *message
	fields     map[portal.Field]*field
}

func newPassword(u *UI) *passwordScreen {
	s := &passwordScreen{
		u:          u,
		identifier: newField(u, "field.identifier", "field.identifier.help", false),
		numic:      newField(u, "field.numic", "field.numic.help", false),
		code:       newCodeField(u),
		msg:        newMessage(),
	}
	s.send = u.newSubmit("password.submit", s.submit)
	s.send.submitOn(s.identifier.entry, s.numic.entry, s.code.entry)
	s.fields = map[portal.Field]*field{portal.FieldIdentifier: s.identifier, portal.FieldNUMIC: s.numic, portal.FieldCode: s.code.field}
	return s
}

func (s *passwordScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("password.title")),
		wrapped(lang.L("password.intro")),
		wrapped(lang.L("request.not_both")),
		widget.NewSeparator(),
		s.identifier.object(), s.numic.object(), s.code.object(),
		s.msg.label, s.send.object(),
	)
	return &page{title: lang.L("password.page"), content: c, focus: s.identifier.entry, screen: s}
}

func (s *passwordScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	req := portal.PasswordRenewalRequest{
		Identifier: s.identifier.entry.Text, NUMIC: s.numic.entry.Text, CodeID: s.code.id, Code: s.code.entry.Text,
	}.Normalize()
	if err := req.Validate(nil); err != nil {
		s.u.showFieldErrors(err, s.fields)
		return
	}
	s.u.showFieldErrors(nil, s.fields)
	s.send.busy(true)
	call(s.u, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.u.portal.RequestPasswordRenewal(ctx, req)
	}, func(_ struct{}, err error) {
		s.send.busy(false)
		if err != nil {
			s.u.formFailed(err, s.code, s.fields, s.msg, func(err error) string {
				if errors.Is(err, portal.ErrRenewalConflict) {
					return s.u.passwordConflictText(err)
				}
				return s.u.errorText(err)
			})
			return
		}
		s.u.replace(newPasswordSent(s.u).page())
	})
}

// passwordSentScreen confirms a password request, the same whether or not
// the identifier and NUMIC matched.
type passwordSentScreen struct {
	u    *UI
	home *button
}

func newPasswordSent(u *UI) *passwordSentScreen {
	s := &passwordSentScreen{u: u, home: u.button(lang.L("common.home"), nil, u.home)}
	s.home.Importance = widget.HighImportance
	return s
}

func (s *passwordSentScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("password_sent.title")),
		wrapped(lang.L("password_sent.text")),
		wrapped(lang.X("password_sent.no_sms", "", map[string]any{"Contact": s.u.opt.Assistance})),
		wrapped(lang.L("password_sent.desk")),
		container.NewHBox(s.home),
	)
	return &page{title: lang.L("password_sent.page"), content: c, focus: s.home, screen: s}
}
