package office

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// officeHomeScreen lists what the agent may do.
type officeHomeScreen struct {
	u                                    *UI
	desk, outbox, roll, campaign, auditB *ui.Button
	approvals                            *ui.Button
	logout                               *ui.Button
}

func newOfficeHome(u *UI) *officeHomeScreen {
	s := &officeHomeScreen{u: u}
	s.desk = u.Button(lang.L("office.desk"), nil, func() { u.Show(newDesk(u).page()) })
	// What the session says the agent may do, and nothing more: an agent
	// who may not approve sees the pending changes, not "to approve".
	var may portal.Permissions
	if u.agent != nil {
		may = u.agent.May
	}
	s.approvals = u.Button(lang.L(approvalsKey(may)), nil, func() { u.Show(newApprovals(u).page()) })
	s.countApprovals(may)
	s.outbox = u.Button(lang.L("office.outbox"), nil, func() { u.Show(newMonitor(u).page()) })
	if may.ManageRoll && u.opt.RollAdmin != nil {
		s.roll = u.Button(lang.L("office.import"), nil, func() { u.Show(newImport(u).page()) })
		s.campaign = u.Button(lang.L("office.campaign"), nil, func() { u.Show(newCampaign(u).page()) })
	}
	if may.Audit {
		s.auditB = u.Button(lang.L("office.audit"), nil, func() { u.Show(newAuditScreen(u).page()) })
	}
	s.logout = u.Button(lang.L("office.logout"), nil, s.doLogout)
	return s
}

func (s *officeHomeScreen) page() *ui.Page {
	a := s.u.agent
	role := lang.L("office.role." + string(a.Role))
	c := container.NewVBox(ui.Heading(lang.L("office.home.page")),
		widget.NewLabel(lang.X("office.home.who", "", map[string]any{"Name": a.Name, "Role": role, "Time": words.Time(a.ExpiresAt)})),
		widget.NewLabel(scopeText(a.Scope)))
	for _, b := range []*ui.Button{s.desk, s.approvals, s.outbox, s.roll, s.campaign, s.auditB} {
		if b != nil {
			c.Add(container.NewHBox(b))
		}
	}
	c.Add(widget.NewSeparator())
	c.Add(container.NewHBox(s.logout))
	return &ui.Page{Title: lang.L("office.home.page"), Content: c, Focus: s.desk, Screen: s}
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
	officeCall(s.u, func(ctx context.Context, token string) ([]portal.ContactChange, error) {
		return s.u.opt.Office.PendingContactChanges(ctx, token)
	}, func(cs []portal.ContactChange, err error) {
		if err == nil && len(cs) > 0 {
			s.approvals.Label = lang.X(approvalsKey(may)+"_count", "", map[string]any{"Count": len(cs)})
			s.approvals.SetText(s.approvals.Label)
		}
	})
}

func (s *officeHomeScreen) doLogout() {
	officeCall(s.u, func(ctx context.Context, token string) (struct{}, error) {
		return struct{}{}, s.u.opt.Office.AgentLogout(ctx, token)
	}, func(struct{}, error) {})
	s.u.agent = nil // after officeCall has read its token
	s.u.Home()
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
