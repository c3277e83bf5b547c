package office

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// approvalsScreen lists the changes awaiting approval, oldest first: each
// opens the voter's file, or is approved from here by an agent the
// session says may approve (another agent's proposal only). An agent who
// may not sees the same list, told why it has no "Approuver".
type approvalsScreen struct {
	u       *UI
	may     portal.Permissions
	list    *fyne.Container
	opens   []*ui.Button // one per proposal
	approve []*ui.Button // one per proposal this agent may approve
	msg     *ui.Message
	running bool
}

func newApprovals(u *UI) *approvalsScreen {
	s := &approvalsScreen{u: u, list: list(), msg: ui.NewMessage()}
	if u.agent != nil {
		s.may = u.agent.May
	}
	s.load()
	return s
}

func (s *approvalsScreen) page() *ui.Page {
	title := lang.L("approvals.page")
	if !s.may.ApproveContactChanges {
		title = lang.L("changes.page")
	}
	c := container.NewVBox(ui.Heading(title), s.msg.Label, s.list)
	p := &ui.Page{Title: title, Content: c, Screen: s}
	if len(s.opens) > 0 {
		p.Focus = s.opens[0]
	}
	return p
}

func (s *approvalsScreen) load() {
	officeCall(s.u, func(ctx context.Context, token string) ([]portal.ContactChange, error) {
		return s.u.opt.Office.PendingContactChanges(ctx, token)
	}, func(cs []portal.ContactChange, err error) {
		if err != nil {
			s.u.deskFailed(err, s.msg)
			return
		}
		s.list.RemoveAll()
		s.opens, s.approve = nil, nil
		if len(cs) == 0 {
			s.list.Add(ui.Wrapped(lang.L("approvals.none")))
		} else if !s.may.ApproveContactChanges {
			// Said once, in words a screen reader reads before the list.
			s.list.Add(ui.Wrapped(lang.L("approvals.admin_only")))
		}
		for _, c := range cs {
			open := s.u.Button(lang.L("approvals.open"), nil, func() {
				s.u.Show(newVoterFile(s.u, c.VoterID).page())
			})
			// Each says whose proposal it acts on, for a screen reader
			// going from button to button.
			open.Label = lang.L("approvals.open") + " — " + c.VoterName
			s.opens = append(s.opens, open)
			s.list.Add(ui.Wrapped(lang.X("approvals.item", "", map[string]any{"Voter": c.VoterName, "NUMIC": c.NUMIC,
				"What": changeText(c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile), "Proposer": c.ProposedBy,
				"Time": words.Time(c.ProposedAt), "Document": documentText(c.Document), "Reason": c.Reason,
				"Expires": words.Time(c.ExpiresAt)})))
			mine := s.u.agent != nil && s.u.agent.Name == c.ProposedBy
			switch {
			case mine:
				// Nobody approves their own proposal.
				s.list.Add(ui.Wrapped(lang.L("approvals.mine")))
				s.list.Add(container.NewHBox(open))
			case s.may.ApproveContactChanges:
				ok := s.u.Button(lang.L("approvals.approve"), nil, func() {
					s.u.confirmApproval(c.VoterName, c, func() { s.doApprove(c) })
				})
				ok.Label = lang.L("approvals.approve") + " — " + c.VoterName
				s.approve = append(s.approve, ok)
				s.list.Add(container.NewHBox(open, ok))
			default:
				s.list.Add(container.NewHBox(open))
			}
			s.list.Add(widget.NewSeparator())
		}
		// The first proposal left, or the way back once none is: never
		// nothing (the last one approved took its button with it).
		if top := s.u.Top(); top != nil && top.Screen == s {
			switch {
			case len(s.opens) > 0:
				s.u.win.Canvas().Focus(s.opens[0])
			case s.u.BackButton != nil:
				s.u.win.Canvas().Focus(s.u.BackButton)
			}
			s.u.Reveal(s.msg.Label)
		}
	})
}

func (s *approvalsScreen) doApprove(c portal.ContactChange) {
	if s.running {
		return
	}
	s.running = true
	s.msg.Set("", widget.MediumImportance)
	officeCall(s.u, func(ctx context.Context, token string) (portal.ContactChange, error) {
		return s.u.opt.Office.ApproveContactChange(ctx, token, c.ID)
	}, func(_ portal.ContactChange, err error) {
		s.running = false
		if err != nil {
			s.u.deskFailed(err, s.msg)
		} else {
			s.msg.Set(lang.X("approvals.approved", "", map[string]any{"Voter": c.VoterName}), widget.SuccessImportance)
		}
		s.load()
	})
}

// confirmApproval asks before a change of contact details is approved,
// naming the voter and the change: one key press must not apply it.
func (u *UI) confirmApproval(voter string, c portal.ContactChange, approve func()) {
	u.Ask(lang.L("file.approve_confirm_title"), lang.X("file.approve_confirm_text", "", map[string]any{
		"Voter": voter, "What": changeText(c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile)}),
		lang.L("file.approve_confirm_no"), lang.L("file.approve_confirm_yes"), approve)
}
