package office

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// voterFileScreen shows a voter's status and history in words, and the
// desk's actions: unlock, cancel links, start a renewal, propose a change
// of contact details and approve or reject another agent's. Every action
// but an approval takes the reason typed at the top.
type voterFileScreen struct {
	u       *UI
	id      int64
	info    *fyne.Container
	reason  *ui.Field
	msg     *ui.Message
	file    portal.VoterFile
	history *fyne.Container

	contact  *fyne.Container // the pending change and its actions
	changeB  *ui.Button      // propose a change (none pending)
	approveB *ui.Button      // approve another agent's proposal
	rejectB  *ui.Button      // reject another agent's proposal
	withdraw *ui.Button      // withdraw one's own proposal

	renewID, renewPW *ui.Button
	unlock, cancel   *ui.Button
	// running: an action's call is under way; the others wait.
	running bool
}

func newVoterFile(u *UI, id int64) *voterFileScreen {
	s := &voterFileScreen{u: u, id: id, info: list(), history: list(), contact: list(), msg: ui.NewMessage(),
		reason: u.NewField("field.reason", "field.reason.help", false)}
	s.renewID = u.Button(lang.L("file.renew_identifier"), nil, func() { s.startRenewal(portal.RenewIdentifier) })
	s.renewPW = u.Button(lang.L("file.renew_password"), nil, func() { s.startRenewal(portal.RenewPassword) })
	s.unlock = u.Button(lang.L("file.unlock"), nil, func() { s.act(false) })
	s.cancel = u.Button(lang.L("file.cancel_links"), nil, func() { s.act(true) })
	s.load()
	return s
}

func (s *voterFileScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("file.page")), s.info, widget.NewSeparator(),
		s.reason.Object(), s.msg.Label,
		ui.Heading(lang.L("file.contact_section")), s.contact,
		ui.Heading(lang.L("file.renew_section")), ui.Wrapped(lang.L("file.renew_text")),
		// One per line: side by side they would not fit 683 units.
		container.NewHBox(s.renewID), container.NewHBox(s.renewPW),
		widget.NewSeparator(), container.NewHBox(s.unlock, s.cancel),
		widget.NewSeparator(), ui.Heading(lang.L("file.history")), s.history)
	return &ui.Page{Title: lang.L("file.page"), Content: c, Focus: s.reason.Entry, Screen: s}
}

func when(t time.Time) string {
	if t.IsZero() {
		return lang.L("file.never")
	}
	return words.Time(t)
}

func yesNo(b bool) string {
	if b {
		return lang.L("file.yes")
	}
	return lang.L("file.no")
}

func (s *voterFileScreen) load() {
	officeCall(s.u, func(ctx context.Context, token string) (portal.VoterFile, error) {
		return s.u.opt.Office.VoterFile(ctx, token, s.id)
	}, func(f portal.VoterFile, err error) {
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		s.file = f
		s.info.RemoveAll()
		add := func(text string) { s.info.Add(ui.Wrapped(text)) }
		s.info.Add(ui.Heading(f.LastName + " " + f.FirstNames))
		add(lang.X("file.numic", "", map[string]any{"NUMIC": f.NUMIC, "Circonscription": f.Circonscription}))
		add(lang.X("file.contact", "", map[string]any{"Email": f.Email, "Mobile": f.Mobile}))
		add(lang.X("file.credentials", "", map[string]any{"Identifier": yesNo(f.HasIdentifier), "Password": yesNo(f.HasPassword)}))
		if f.LockedUntil.IsZero() {
			add(lang.X("file.not_locked", "", map[string]any{"Failures": f.FailedAttempts}))
		} else {
			add(lang.X("file.locked", "", map[string]any{"Time": words.Time(f.LockedUntil), "Failures": f.FailedAttempts}))
		}
		add(lang.X("file.renewals", "", map[string]any{"Identifier": when(f.IdentifierRenewedAt),
			"Password": when(f.PasswordRenewedAt), "Login": when(f.LastLoginAt)}))
		add(lang.X("file.links", "", map[string]any{"Count": len(f.PendingLinks)}))
		s.info.Add(ui.Heading(lang.L("file.messages")))
		for _, m := range f.Messages {
			s.info.Add(container.NewVBox(messageLines(m)...))
		}
		s.showContact(f)
		// One text Tab reaches and the arrows read to its end, scrolling the
		// page: below the last button, it is out of sight otherwise.
		s.history.RemoveAll()
		lines := make([]string, 0, len(f.History))
		for _, h := range f.History {
			lines = append(lines, historyText(h))
		}
		if len(lines) > 0 {
			s.history.Add(s.u.ReadOnlyText(strings.Join(lines, "\n")))
		}
		s.keepFocus()
	})
}

// keepFocus: after an action whose button went with the file's rebuild
// (approve, reject, withdraw), the focus moves to the contact section's
// first button, that replaced it, with the action's result in view.
func (s *voterFileScreen) keepFocus() {
	c := s.u.win.Canvas()
	if top := s.u.Top(); top == nil || top.Screen != s {
		return
	}
	if o, ok := c.Focused().(fyne.CanvasObject); ok && s.u.OnPage(o) {
		return
	}
	for _, b := range []*ui.Button{s.changeB, s.approveB, s.withdraw, s.rejectB} {
		if b != nil {
			c.Focus(b)
			s.u.Reveal(s.msg.Label, b)
			return
		}
	}
}

// showContact fills the contact section: the pending proposal with what
// this agent may do about it, or the button to propose one; then the
// latest decided ones.
func (s *voterFileScreen) showContact(f portal.VoterFile) {
	s.contact.RemoveAll()
	s.changeB, s.approveB, s.rejectB, s.withdraw = nil, nil, nil, nil
	var pending *portal.ContactChange
	for i, c := range f.ContactChanges {
		if c.State == portal.ChangePending {
			pending = &f.ContactChanges[i]
			break
		}
	}
	if pending == nil {
		s.changeB = s.u.Button(lang.L("file.change"), nil, func() {
			s.u.Show(newContactChange(s.u, s.file, func(c portal.ContactChange) {
				s.msg.Set(lang.X("contact.proposed", "", map[string]any{"Time": words.Time(c.ExpiresAt)}), widget.SuccessImportance)
				s.load()
			}).page())
		})
		s.contact.Add(container.NewHBox(s.changeB))
	} else {
		c := *pending
		s.contact.Add(ui.Wrapped(lang.X("file.pending", "", map[string]any{
			"What": changeText(c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile), "Proposer": c.ProposedBy,
			"Time": words.Time(c.ProposedAt), "Document": documentText(c.Document), "Reason": c.Reason,
			"Expires": words.Time(c.ExpiresAt)})))
		if s.u.agent != nil && s.u.agent.Name == c.ProposedBy {
			s.contact.Add(ui.Wrapped(lang.L("file.pending_mine")))
			s.withdraw = s.u.Button(lang.L("file.withdraw"), nil, func() { s.reject(c.ID, true) })
			s.contact.Add(container.NewHBox(s.withdraw))
		} else {
			s.rejectB = s.u.Button(lang.L("file.reject"), nil, func() { s.reject(c.ID, false) })
			if s.u.agent != nil && s.u.agent.May.ApproveContactChanges {
				s.approveB = s.u.Button(lang.L("file.approve"), nil, func() {
					s.u.confirmApproval(f.LastName+" "+f.FirstNames, c, func() { s.approve(c.ID) })
				})
				s.approveB.Importance = widget.HighImportance
				s.contact.Add(container.NewHBox(s.approveB, s.rejectB))
			} else {
				// No button that could only be refused: why, in words, and
				// what this agent may still do.
				s.contact.Add(ui.Wrapped(lang.L("file.approve_admin_only")))
				s.contact.Add(container.NewHBox(s.rejectB))
			}
		}
	}
	shown := 0
	for _, c := range f.ContactChanges {
		if c.State == portal.ChangePending || shown == 3 {
			continue
		}
		if shown == 0 {
			s.contact.Add(widget.NewLabelWithStyle(lang.L("file.changes"), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
		}
		shown++
		s.contact.Add(ui.Wrapped(lang.X("file.change_line", "", map[string]any{"Time": words.Time(c.ProposedAt),
			"What": changeText(c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile), "State": lang.L("change.state." + string(c.State)),
			"Proposer": c.ProposedBy, "DecidedBy": c.DecidedBy})))
	}
}

// run runs one action's call unless another one's is under way, then
// shows its outcome and reloads the file.
func run[T any](s *voterFileScreen, work func(ctx context.Context, token string) (T, error), done func(T)) {
	if s.running {
		return
	}
	s.running = true
	s.msg.Set("", widget.MediumImportance)
	officeCall(s.u, work, func(v T, err error) {
		s.running = false
		if err != nil {
			if !s.u.showFieldErrors(err, map[portal.Field]*ui.Field{portal.FieldReason: s.reason}) {
				s.u.deskFailed(err, s.msg)
				if !errors.Is(err, portal.ErrUnauthorized) {
					s.load() // a refusal is in the history too
				}
			}
			return
		}
		s.reason.SetError("")
		s.reason.Entry.SetText("")
		done(v)
		s.load()
	})
}

// act unlocks the voter, or cancels its links, with the typed reason.
func (s *voterFileScreen) act(cancelLinks bool) {
	why := s.reason.Entry.Text
	run(s, func(ctx context.Context, token string) (int, error) {
		if cancelLinks {
			return s.u.opt.Office.CancelLinks(ctx, token, s.id, why)
		}
		return 0, s.u.opt.Office.UnlockVoter(ctx, token, s.id, why)
	}, func(n int) {
		if cancelLinks {
			s.msg.Set(lang.X("file.cancelled", "", map[string]any{"Count": n}), widget.SuccessImportance)
		} else {
			s.msg.Set(lang.L("file.unlocked"), widget.SuccessImportance)
		}
	})
}

// startRenewal sends the voter the usual link or SMS, with the typed
// reason; the agent learns where it went, never what.
func (s *voterFileScreen) startRenewal(kind portal.RenewalKind) {
	why := s.reason.Entry.Text
	run(s, func(ctx context.Context, token string) (portal.DeskRenewal, error) {
		return s.u.opt.Office.StartRenewal(ctx, token, s.id, kind, why)
	}, func(r portal.DeskRenewal) {
		if r.Kind == portal.RenewPassword {
			s.msg.Set(lang.X("file.renewal_password_sent", "", map[string]any{"To": r.Recipient}), widget.SuccessImportance)
		} else {
			s.msg.Set(lang.X("file.renewal_identifier_sent", "", map[string]any{"To": r.Recipient, "Time": words.Time(r.ExpiresAt)}), widget.SuccessImportance)
		}
	})
}

// approve approves another agent's proposal: no reason of its own, the
// proposal carries it.
func (s *voterFileScreen) approve(id int64) {
	run(s, func(ctx context.Context, token string) (portal.ContactChange, error) {
		return s.u.opt.Office.ApproveContactChange(ctx, token, id)
	}, func(portal.ContactChange) {
		s.msg.Set(lang.L("file.approved"), widget.SuccessImportance)
	})
}

// reject rejects another agent's proposal, or withdraws one's own, with
// the typed reason.
func (s *voterFileScreen) reject(id int64, own bool) {
	why := s.reason.Entry.Text
	run(s, func(ctx context.Context, token string) (portal.ContactChange, error) {
		return s.u.opt.Office.RejectContactChange(ctx, token, id, why)
	}, func(portal.ContactChange) {
		if own {
			s.msg.Set(lang.L("file.withdrawn"), widget.SuccessImportance)
		} else {
			s.msg.Set(lang.L("file.rejected"), widget.SuccessImportance)
		}
	})
}
