package screens

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// deskScreen finds a voter by NUMIC or e-mail.
type deskScreen struct {
	u       *UI
	query   *field
	search  *submitButton
	results *fyne.Container
	found   []*button // one per voter found
	msg     *message
}

func newDesk(u *UI) *deskScreen {
	s := &deskScreen{u: u, query: newField(u, "field.query", "field.query.help", false), results: list(), msg: newMessage()}
	s.search = u.newSubmit("desk.search", s.submit)
	s.search.submitOn(s.query.entry)
	return s
}

func (s *deskScreen) page() *page {
	c := container.NewVBox(heading(lang.L("desk.page")), s.query.object(), s.search.object(), s.msg.label, s.results)
	return &page{title: lang.L("desk.page"), content: c, focus: s.query.entry, screen: s}
}

func (s *deskScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	q := s.query.entry.Text
	s.search.busy(true)
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) ([]portal.VoterSummary, error) {
		return s.u.opt.Office.FindVoters(ctx, token, q)
	}, func(vs []portal.VoterSummary, err error) {
		s.search.busy(false)
		s.results.RemoveAll()
		s.found = nil
		if err != nil {
			if !s.u.showFieldErrors(err, map[portal.Field]*field{portal.FieldQuery: s.query}) {
				s.u.officeFailed(err, s.msg)
			}
			return
		}
		s.query.setError("")
		if len(vs) == 0 {
			s.msg.set(lang.L("desk.none"), widget.MediumImportance)
		}
		for _, v := range vs {
			b := s.u.button(fmt.Sprintf("%s — %s %s — %s", v.NUMIC, v.LastName, v.FirstNames, v.Email), nil, func() {
				s.u.show(newVoterFile(s.u, v.ID).page())
			})
			b.Alignment = widget.ButtonAlignLeading
			s.found = append(s.found, b)
			s.results.Add(b)
		}
	})
}

// voterFileScreen shows a voter's status and history, and the desk's
// actions, each with its reason.
type voterFileScreen struct {
	u       *UI
	id      int64
	info    *fyne.Container
	reason  *field
	unlock  *button
	cancel  *button
	msg     *message
	file    portal.VoterFile
	history *fyne.Container
}

func newVoterFile(u *UI, id int64) *voterFileScreen {
	s := &voterFileScreen{u: u, id: id, info: list(), history: list(), msg: newMessage(),
		reason: newField(u, "field.reason", "field.reason.help", false)}
	s.unlock = u.button(lang.L("file.unlock"), nil, func() { s.act(false) })
	s.cancel = u.button(lang.L("file.cancel_links"), nil, func() { s.act(true) })
	s.load()
	return s
}

func (s *voterFileScreen) page() *page {
	c := container.NewVBox(heading(lang.L("file.page")), s.info, widget.NewSeparator(),
		s.reason.object(), container.NewHBox(s.unlock, s.cancel), s.msg.label,
		widget.NewSeparator(), heading(lang.L("file.history")), s.history)
	return &page{title: lang.L("file.page"), content: c, focus: s.reason.entry, screen: s}
}

func when(t time.Time) string {
	if t.IsZero() {
		return lang.L("file.never")
	}
	return formatTime(t)
}

func yesNo(b bool) string {
	if b {
		return lang.L("file.yes")
	}
	return lang.L("file.no")
}

func (s *voterFileScreen) load() {
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) (portal.VoterFile, error) {
		return s.u.opt.Office.VoterFile(ctx, token, s.id)
	}, func(f portal.VoterFile, err error) {
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		s.file = f
		s.info.RemoveAll()
		add := func(text string) { s.info.Add(wrapped(text)) }
		s.info.Add(heading(f.LastName + " " + f.FirstNames))
		add(lang.X("file.numic", "", map[string]any{"NUMIC": f.NUMIC, "Circonscription": f.Circonscription}))
		add(lang.X("file.contact", "", map[string]any{"Email": f.Email, "Mobile": f.Mobile}))
		add(lang.X("file.credentials", "", map[string]any{"Identifier": yesNo(f.HasIdentifier), "Password": yesNo(f.HasPassword)}))
		if f.LockedUntil.IsZero() {
			add(lang.X("file.not_locked", "", map[string]any{"Failures": f.FailedAttempts}))
		} else {
			add(lang.X("file.locked", "", map[string]any{"Time": formatTime(f.LockedUntil), "Failures": f.FailedAttempts}))
		}
		add(lang.X("file.renewals", "", map[string]any{"Identifier": when(f.IdentifierRenewedAt),
			"Password": when(f.PasswordRenewedAt), "Login": when(f.LastLoginAt)}))
		add(lang.X("file.links", "", map[string]any{"Count": len(f.PendingLinks)}))
		s.info.Add(heading(lang.L("file.messages")))
		for _, m := range f.Messages {
			add(lang.X("file.message", "", map[string]any{"Time": formatTime(m.CreatedAt), "Channel": codeLabel("channel.", m.Channel),
				"Kind": codeLabel("kind.", m.Kind), "To": m.Recipient, "State": codeLabel("state.", m.State), "Attempts": m.Attempts}))
		}
		s.history.RemoveAll()
		for _, h := range f.History {
			s.history.Add(wrapped(lang.X("audit.entry", "", map[string]any{"Time": formatTime(h.At), "Actor": actorLabel(h.Actor),
				"Action": codeLabel("action.", h.Action), "Detail": h.Detail})))
		}
	})
}

// act unlocks the voter, or cancels its links, with the typed reason.
func (s *voterFileScreen) act(cancelLinks bool) {
	why := s.reason.entry.Text
	s.msg.set("", widget.MediumImportance)
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) (int, error) {
		if cancelLinks {
			return s.u.opt.Office.CancelLinks(ctx, token, s.id, why)
		}
		return 0, s.u.opt.Office.UnlockVoter(ctx, token, s.id, why)
	}, func(n int, err error) {
		if err != nil {
			if !s.u.showFieldErrors(err, map[portal.Field]*field{portal.FieldReason: s.reason}) {
				s.u.officeFailed(err, s.msg)
			}
			return
		}
		s.reason.setError("")
		s.reason.entry.SetText("")
		if cancelLinks {
			s.msg.set(lang.X("file.cancelled", "", map[string]any{"Count": n}), widget.SuccessImportance)
		} else {
			s.msg.set(lang.L("file.unlocked"), widget.SuccessImportance)
		}
		s.load()
	})
}
