package office

import (
	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
	"context"
	"errors"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// officeLoginScreen is the agents' login.
type officeLoginScreen struct {
	u        *UI
	name     *ui.Field
	password *ui.Field
	code     *ui.Field // the second factor's one-time code
	login    *ui.Submit
	msg      *ui.Message
}

func newOfficeLogin(u *UI, notice string) *officeLoginScreen {
	s := &officeLoginScreen{u: u, name: u.NewField("field.name", "", false), password: u.NewField("field.password", "", true),
		code: u.NewField("field.otp", "field.otp.help", false), msg: ui.NewMessage()}
	s.login = u.NewSubmit("office.login.submit", s.submit)
	s.login.SubmitOn(s.name.Entry, s.password.Entry, s.code.Entry)
	if notice != "" {
		s.msg.Set(notice, widget.WarningImportance)
	}
	return s
}

func (s *officeLoginScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("office.login.title")), s.name.Object(), s.password.Object(), s.code.Object(), s.msg.Label, s.login.Object())
	return &ui.Page{Title: lang.L("office.login.page"), Content: c, Focus: s.name.Entry, Screen: s}
}

func (s *officeLoginScreen) submit() {
	name, pw, code := s.name.Entry.Text, s.password.Entry.Text, s.code.Entry.Text
	s.login.Busy(true)
	ui.Call(s.u.calls, func(ctx context.Context) (portal.AgentSession, error) {
		return s.u.opt.Office.AgentLogin(ctx, name, pw, code)
	}, func(sess portal.AgentSession, err error) {
		s.login.Busy(false)
		s.password.Entry.SetText("")
		s.code.Entry.SetText("")
		var pe *portal.Error
		switch {
		case errors.As(err, &pe) && (pe.Code == portal.CodeLocked || pe.Code == portal.CodeRateLimited) && !pe.Until.IsZero():
			// Agent logins are throttled per source: the account is not locked.
			s.msg.Set(lang.X("office.locked", "", map[string]any{"Time": words.Time(pe.Until)}), widget.DangerImportance)
			s.u.Failed(s.password, s.msg.Label, s.msg.Label)
			return
		case err != nil:
			if !s.u.showFieldErrors(err, map[portal.Field]*ui.Field{portal.FieldName: s.name, portal.FieldPassword: s.password}) {
				s.msg.Set(s.loginErrorText(err), widget.DangerImportance)
				s.u.Failed(s.password, s.msg.Label, s.msg.Label)
			}
			return
		}
		s.u.agent = &sess
		s.u.Replace(newOfficeHome(s.u).page())
	})
}

// loginErrorText words a refused login for this screen, which asks for an
// agent name, not an identifier.
func (s *officeLoginScreen) loginErrorText(err error) string {
	var pe *portal.Error
	if !errors.Is(err, portal.ErrBadLogin) || !errors.As(err, &pe) {
		return s.u.errorText(err)
	}
	if pe.Remaining > 0 {
		return lang.XN("office.bad_login.remaining", "", pe.Remaining, map[string]any{"Remaining": pe.Remaining})
	}
	return lang.L("office.bad_login")
}
