package office

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// deskScreen finds a voter by NUMIC or e-mail.
type deskScreen struct {
	u       *UI
	query   *ui.Field
	search  *ui.Submit
	results *fyne.Container
	found   []*ui.Button // one per voter found
	msg     *ui.Message
}

func newDesk(u *UI) *deskScreen {
	s := &deskScreen{u: u, query: u.NewField("field.query", "field.query.help", false), results: list(), msg: ui.NewMessage()}
	s.search = u.NewSubmit("desk.search", s.submit)
	s.search.SubmitOn(s.query.Entry)
	return s
}

func (s *deskScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("desk.page")), s.query.Object(), s.search.Object(), s.msg.Label, s.results)
	return &ui.Page{Title: lang.L("desk.page"), Content: c, Focus: s.query.Entry, Screen: s}
}

func (s *deskScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	q := s.query.Entry.Text
	s.search.Busy(true)
	officeCall(s.u, func(ctx context.Context, token string) ([]portal.VoterSummary, error) {
		return s.u.opt.Office.FindVoters(ctx, token, q)
	}, func(vs []portal.VoterSummary, err error) {
		s.search.Busy(false)
		s.results.RemoveAll()
		s.found = nil
		if err != nil {
			if !s.u.showFieldErrors(err, map[portal.Field]*ui.Field{portal.FieldQuery: s.query}) {
				s.u.officeFailed(err, s.msg)
			}
			return
		}
		s.query.SetError("")
		if len(vs) == 0 {
			s.msg.Set(lang.L("desk.none"), widget.MediumImportance)
		}
		for _, v := range vs {
			b := s.u.Button(fmt.Sprintf("%s — %s %s — %s", v.NUMIC, v.LastName, v.FirstNames, v.Email), nil, func() {
				s.u.Show(newVoterFile(s.u, v.ID).page())
			})
			b.Alignment = widget.ButtonAlignLeading
			s.found = append(s.found, b)
			s.results.Add(b)
		}
		if len(s.found) > 0 {
			// The next step is to open one: Space or Enter does it.
			s.u.win.Canvas().Focus(s.found[0])
		}
	})
}
