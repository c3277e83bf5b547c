package office

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// auditScreen shows the audit log with filters and checks its integrity.
type auditScreen struct {
	u            *UI
	verify       *ui.Button
	result       *ui.Message
	actor, numic *ui.Field
	// action chooses an action in words: agents never see the codes.
	action      *ui.Choice
	actionLabel *widget.Label
	actionCodes []string // the code of each of action's options ("" for all)
	filter      *ui.Button
	entries     *fyne.Container
	shown       int
	msg         *ui.Message
}

func newAuditScreen(u *UI) *auditScreen {
	s := &auditScreen{u: u, result: ui.NewMessage(), msg: ui.NewMessage(), entries: list(),
		actor: u.NewField("field.actor", "", false), numic: u.NewField("field.numic_filter", "", false)}
	options := []string{lang.L("audit.any_action")}
	s.actionCodes = []string{""}
	codes := slices.Clone(portal.AuditActions)
	slices.SortFunc(codes, func(a, b string) int { return strings.Compare(codeLabel("action.", a), codeLabel("action.", b)) })
	for _, c := range codes {
		options = append(options, codeLabel("action.", c))
		s.actionCodes = append(s.actionCodes, c)
	}
	s.actionLabel = widget.NewLabelWithStyle(lang.L("field.action"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.action = u.Choice(lang.L("field.action"), options)
	s.action.SetSelectedIndex(0)
	s.action.OnChanged = func(string) { s.load() }
	s.verify = u.Button(lang.L("audit.verify"), nil, s.check)
	s.verify.Importance = widget.HighImportance
	s.filter = u.Button(lang.L("audit.filter"), nil, s.load)
	for _, f := range []*ui.Field{s.actor, s.numic} {
		f.Entry.OnSubmitted = func(string) { s.load() }
	}
	s.load()
	return s
}

func (s *auditScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("audit.page")), container.NewHBox(s.verify), s.result.Label, widget.NewSeparator(),
		container.NewGridWithColumns(3, s.actor.Object(), container.NewVBox(s.actionLabel, s.action), s.numic.Object()),
		container.NewHBox(s.filter), s.msg.Label, s.entries)
	return &ui.Page{Title: lang.L("audit.page"), Content: c, Focus: s.verify, Screen: s}
}

func (s *auditScreen) check() {
	s.verify.Disable()
	officeCall(s.u, func(ctx context.Context, token string) (portal.AuditReport, error) {
		return s.u.opt.Office.VerifyAudit(ctx, token)
	}, func(r portal.AuditReport, err error) {
		s.verify.Enable()
		if err != nil {
			s.u.officeFailed(err, s.result)
			return
		}
		if len(r.Problems) == 0 {
			s.result.Set(lang.X("audit.intact", "", map[string]any{"Rows": r.Rows}), widget.SuccessImportance)
			return
		}
		s.result.Set(lang.X("audit.tampered", "", map[string]any{"Count": len(r.Problems), "Rows": r.Rows})+"\n"+
			strings.Join(findingsText(r), "\n"), widget.DangerImportance)
	})
}

func (s *auditScreen) load() {
	action := ""
	if i := s.action.SelectedIndex(); i > 0 {
		action = s.actionCodes[i]
	}
	f := portal.AuditFilter{Actor: s.actor.Entry.Text, Action: action, NUMIC: s.numic.Entry.Text}
	officeCall(s.u, func(ctx context.Context, token string) ([]portal.HistoryEntry, error) {
		return s.u.opt.Office.AuditEntries(ctx, token, f)
	}, func(es []portal.HistoryEntry, err error) {
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		s.entries.RemoveAll()
		s.shown = 0
		for _, e := range es {
			// The service matches part of the code ("login" is in
			// "agent.login"): the action chosen is this one only.
			if action != "" && e.Action != action {
				continue
			}
			s.entries.Add(ui.Wrapped(historyText(e)))
			s.shown++
		}
	})
}

// findingsText says each problem of the audit log in the agent's
// language; a problem without a code (an older server) as it came.
func findingsText(r portal.AuditReport) []string {
	if len(r.Findings) != len(r.Problems) {
		return r.Problems
	}
	lines := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		key := "audit.finding." + f.Cause
		t := lang.X(key, "", map[string]any{"Row": f.Row, "N": f.N, "M": f.M, "Checkpoint": f.Checkpoint})
		if t == "" || t == key {
			t = r.Problems[i]
		}
		lines[i] = t
	}
	return lines
}
