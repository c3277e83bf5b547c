package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// auditScreen shows the audit log with filters and checks its integrity.
type auditScreen struct {
	u                    *UI
	verify               *button
	result               *message
	actor, action, numic *field
	filter               *button
	entries              *fyne.Container
	shown                int
	msg                  *message
}

func newAuditScreen(u *UI) *auditScreen {
	s := &auditScreen{u: u, result: newMessage(), msg: newMessage(), entries: list(),
		actor: newField(u, "field.actor", "", false), action: newField(u, "field.action", "", false),
		numic: newField(u, "field.numic_filter", "", false)}
	s.verify = u.button(lang.L("audit.verify"), nil, s.check)
	s.verify.Importance = widget.HighImportance
	s.filter = u.button(lang.L("audit.filter"), nil, s.load)
	for _, f := range []*field{s.actor, s.action, s.numic} {
		f.entry.OnSubmitted = func(string) { s.load() }
	}
	s.load()
	return s
}

func (s *auditScreen) page() *page {
	c := container.NewVBox(heading(lang.L("audit.page")), container.NewHBox(s.verify), s.result.label, widget.NewSeparator(),
		container.NewGridWithColumns(3, s.actor.object(), s.action.object(), s.numic.object()),
		container.NewHBox(s.filter), s.msg.label, s.entries)
	return &page{title: lang.L("audit.page"), content: c, focus: s.verify, screen: s}
}

func (s *auditScreen) check() {
	s.verify.Disable()
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) (portal.AuditReport, error) {
		return s.u.opt.Office.VerifyAudit(ctx, token)
	}, func(r portal.AuditReport, err error) {
		s.verify.Enable()
		if err != nil {
			s.u.officeFailed(err, s.result)
			return
		}
		if len(r.Problems) == 0 {
			s.result.set(lang.X("audit.intact", "", map[string]any{"Rows": r.Rows}), widget.SuccessImportance)
			return
		}
		s.result.set(lang.X("audit.tampered", "", map[string]any{"Count": len(r.Problems), "Rows": r.Rows})+"\n"+
			strings.Join(r.Problems, "\n"), widget.DangerImportance)
	})
}

func (s *auditScreen) load() {
	f := portal.AuditFilter{Actor: s.actor.entry.Text, Action: s.action.entry.Text, NUMIC: s.numic.entry.Text}
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) ([]portal.HistoryEntry, error) {
		return s.u.opt.Office.AuditEntries(ctx, token, f)
	}, func(es []portal.HistoryEntry, err error) {
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		s.entries.RemoveAll()
		s.shown = len(es)
		for _, e := range es {
			s.entries.Add(wrapped(historyText(e)))
		}
	})
}
