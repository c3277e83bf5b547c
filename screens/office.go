package screens

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// office opens the "Espace consulat": its home if an agent is logged in,
// else the agents' login.
func (u *UI) office() {
	if u.agent != nil {
		u.show(newOfficeHome(u).page())
		return
	}
	u.show(newOfficeLogin(u, "").page())
}

// officeFailed handles an office error: an ended session sends the agent
// back to the login; anything else is shown in msg.
func (u *UI) officeFailed(err error, msg *message) {
	if errors.Is(err, portal.ErrUnauthorized) {
		u.agent = nil
		u.replace(newOfficeLogin(u, lang.L("office.expired")).page())
		return
	}
	msg.set(u.errorText(err), widget.DangerImportance)
}

func (u *UI) token() string {
	if u.agent == nil {
		return ""
	}
	return u.agent.Token
}

// officeLoginScreen is the agents' login.
type officeLoginScreen struct {
	u        *UI
	name     *field
	password *field
	code     *field // the second factor's one-time code
	login    *submitButton
	msg      *message
}

func newOfficeLogin(u *UI, notice string) *officeLoginScreen {
	s := &officeLoginScreen{u: u, name: newField(u, "field.name", "", false), password: newField(u, "field.password", "", true),
		code: newField(u, "field.otp", "field.otp.help", false), msg: newMessage()}
	s.login = u.newSubmit("office.login.submit", s.submit)
	s.login.submitOn(s.name.entry, s.password.entry, s.code.entry)
	if notice != "" {
		s.msg.set(notice, widget.WarningImportance)
	}
	return s
}

func (s *officeLoginScreen) page() *page {
	c := container.NewVBox(heading(lang.L("office.login.title")), s.name.object(), s.password.object(), s.code.object(), s.msg.label, s.login.object())
	return &page{title: lang.L("office.login.page"), content: c, focus: s.name.entry, screen: s}
}

func (s *officeLoginScreen) submit() {
	name, pw, code := s.name.entry.Text, s.password.entry.Text, s.code.entry.Text
	s.login.busy(true)
	call(s.u, func(ctx context.Context) (portal.AgentSession, error) {
		return s.u.opt.Office.AgentLogin(ctx, name, pw, code)
	}, func(sess portal.AgentSession, err error) {
		s.login.busy(false)
		s.password.entry.SetText("")
		s.code.entry.SetText("")
		var pe *portal.Error
		switch {
		case errors.As(err, &pe) && (pe.Code == portal.CodeLocked || pe.Code == portal.CodeRateLimited) && !pe.Until.IsZero():
			// Agent logins are throttled per source: the account is not locked.
			s.msg.set(lang.X("office.locked", "", map[string]any{"Time": formatTime(pe.Until)}), widget.DangerImportance)
			s.u.failed(s.password, s.msg.label, s.msg.label)
			return
		case err != nil:
			if !s.u.showFieldErrors(err, map[portal.Field]*field{portal.FieldName: s.name, portal.FieldPassword: s.password}) {
				s.msg.set(s.loginErrorText(err), widget.DangerImportance)
				s.u.failed(s.password, s.msg.label, s.msg.label)
			}
			return
		}
		s.u.agent = &sess
		s.u.replace(newOfficeHome(s.u).page())
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

// officeHomeScreen lists what the agent may do.
type officeHomeScreen struct {
	u                                    *UI
	desk, outbox, roll, campaign, auditB *button
	approvals                            *button
	logout                               *button
}

func newOfficeHome(u *UI) *officeHomeScreen {
	s := &officeHomeScreen{u: u}
	s.desk = u.button(lang.L("office.desk"), nil, func() { u.show(newDesk(u).page()) })
	// What the session says the agent may do, and nothing more: an agent
	// who may not approve sees the pending changes, not "to approve".
	var may portal.Permissions
	if u.agent != nil {
		may = u.agent.May
	}
	s.approvals = u.button(lang.L(approvalsKey(may)), nil, func() { u.show(newApprovals(u).page()) })
	s.countApprovals(may)
	s.outbox = u.button(lang.L("office.outbox"), nil, func() { u.show(newMonitor(u).page()) })
	if may.ManageRoll && u.opt.RollAdmin != nil {
		s.roll = u.button(lang.L("office.import"), nil, func() { u.show(newImport(u).page()) })
		s.campaign = u.button(lang.L("office.campaign"), nil, func() { u.show(newCampaign(u).page()) })
	}
	if may.Audit {
		s.auditB = u.button(lang.L("office.audit"), nil, func() { u.show(newAuditScreen(u).page()) })
	}
	s.logout = u.button(lang.L("office.logout"), nil, s.doLogout)
	return s
}

func (s *officeHomeScreen) page() *page {
	a := s.u.agent
	role := lang.L("office.role." + string(a.Role))
	c := container.NewVBox(heading(lang.L("office.home.page")),
		widget.NewLabel(lang.X("office.home.who", "", map[string]any{"Name": a.Name, "Role": role, "Time": formatTime(a.ExpiresAt)})),
		widget.NewLabel(scopeText(a.Scope)))
	for _, b := range []*button{s.desk, s.approvals, s.outbox, s.roll, s.campaign, s.auditB} {
		if b != nil {
			c.Add(container.NewHBox(b))
		}
	}
	c.Add(widget.NewSeparator())
	c.Add(container.NewHBox(s.logout))
	return &page{title: lang.L("office.home.page"), content: c, focus: s.desk, screen: s}
}

// approvalsKey names the list of pending changes for what the agent may
// do with them.
func approvalsKey(may portal.Permissions) string {
	if may.ApproveContactChanges {
		return "office.approvals"
	}
	return "office.changes"
}

// countApprovals shows on its button how many changes await approval.
func (s *officeHomeScreen) countApprovals(may portal.Permissions) {
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) ([]portal.ContactChange, error) {
		return s.u.opt.Office.PendingContactChanges(ctx, token)
	}, func(cs []portal.ContactChange, err error) {
		if err == nil && len(cs) > 0 {
			s.approvals.label = lang.X(approvalsKey(may)+"_count", "", map[string]any{"Count": len(cs)})
			s.approvals.SetText(s.approvals.label)
		}
	})
}

func (s *officeHomeScreen) doLogout() {
	token := s.u.token()
	s.u.agent = nil
	call(s.u, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.u.opt.Office.AgentLogout(ctx, token)
	}, func(struct{}, error) {})
	s.u.home()
}

// list is a vertical list of labels rebuilt on each load.
func list() *fyne.Container { return container.NewVBox() }

// scopeText says which voters the agent sees.
func scopeText(s portal.Scope) string {
	switch {
	case s.Central:
		return lang.L("office.home.scope_central")
	case len(s.Circonscriptions) == 0:
		return lang.L("office.home.scope_none")
	}
	return lang.X("office.home.scope", "", map[string]any{"List": strings.Join(s.Circonscriptions, ", ")})
}
