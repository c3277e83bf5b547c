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
	"consulvote/screens/words"
)

// contactScreen is the proposal of a change of e-mail or mobile, after the
// identity check: the new values, the document seen and the reason. It
// changes nothing by itself: another agent approves it from the voter's
// file or the list of changes to approve.
type contactScreen struct {
	u        *UI
	file     portal.VoterFile
	email    *ui.Field
	mobile   *ui.Field
	document *ui.Choice
	docErr   *widget.Label
	reason   *ui.Field
	submitB  *ui.Submit
	msg      *ui.Message
	// done is called with the proposal once stored, back on the file.
	done func(portal.ContactChange)
}

func newContactChange(u *UI, f portal.VoterFile, done func(portal.ContactChange)) *contactScreen {
	s := &contactScreen{u: u, file: f, done: done, msg: ui.NewMessage(),
		email:  u.NewField("field.new_email", "field.new_email.help", false),
		mobile: u.NewField("field.new_mobile", "field.new_mobile.help", false),
		reason: u.NewField("field.change_reason", "field.change_reason.help", false),
		docErr: widget.NewLabel("")}
	var names []string
	for _, d := range portal.Documents {
		names = append(names, documentText(d))
	}
	s.document = u.Choice(lang.L("field.document"), names)
	s.docErr.Importance = widget.DangerImportance
	s.docErr.Wrapping = fyne.TextWrapWord
	s.docErr.Hide()
	s.submitB = u.NewSubmit("contact.submit", s.submit)
	s.submitB.SubmitOn(s.email.Entry, s.mobile.Entry, s.reason.Entry)
	return s
}

func (s *contactScreen) page() *ui.Page {
	f := s.file
	docLabel := widget.NewLabelWithStyle(lang.L("field.document"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	docHelp := ui.Wrapped(lang.L("field.document.help"))
	docHelp.TextStyle = fyne.TextStyle{Italic: true}
	c := container.NewVBox(ui.Heading(lang.L("contact.page")),
		ui.Wrapped(lang.X("contact.current", "", map[string]any{"Name": f.LastName + " " + f.FirstNames, "NUMIC": f.NUMIC,
			"Email": f.Email, "Mobile": f.Mobile})),
		ui.Wrapped(lang.L("contact.intro")),
		s.email.Object(), s.mobile.Object(),
		container.NewVBox(docLabel, s.document, docHelp, s.docErr),
		s.reason.Object(), s.msg.Label, s.submitB.Object())
	return &ui.Page{Title: lang.L("contact.page"), Content: c, Focus: s.email.Entry, Screen: s}
}

func (s *contactScreen) selected() portal.Document {
	if i := s.document.SelectedIndex(); i >= 0 {
		return portal.Documents[i]
	}
	return ""
}

func (s *contactScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	req := portal.ContactChangeRequest{VoterID: s.file.ID, Email: s.email.Entry.Text, Mobile: s.mobile.Entry.Text,
		Document: s.selected(), Reason: s.reason.Entry.Text}
	s.submitB.Busy(true)
	officeCall(s.u, func(ctx context.Context, token string) (portal.ContactChange, error) {
		return s.u.opt.Office.ProposeContactChange(ctx, token, req)
	}, func(c portal.ContactChange, err error) {
		s.submitB.Busy(false)
		switch {
		case err == nil:
			s.u.Back()
			s.done(c)
		case !s.showErrors(err):
			s.u.deskFailed(err, s.msg)
		}
	})
}

// showErrors puts each field error under its field, in the desk's words,
// and names the fields to correct at the top of the page, the first one
// focused. It reports whether there was any.
func (s *contactScreen) showErrors(err error) bool {
	fields := map[portal.Field]*ui.Field{portal.FieldEmail: s.email, portal.FieldMobile: s.mobile, portal.FieldReason: s.reason}
	wrong := words.MarkFields(err, fields, deskFieldErrorText)
	s.docErr.Hide()
	for _, fe := range portal.FieldErrors(err) {
		if fe.Field == portal.FieldDocument {
			s.docErr.SetText(deskFieldErrorText(fe))
			s.docErr.Show()
		}
	}
	if !s.docErr.Visible() {
		s.u.Summarize(wrong)
		return len(wrong) > 0
	}
	// The chooser is no text field: the summary names it in reading
	// order, between the mobile and the reason.
	var names []string
	var first fyne.Focusable
	for _, f := range []*ui.Field{s.email, s.mobile, nil, s.reason} {
		switch {
		case f == nil:
			names = append(names, lang.L("field.document"))
			if first == nil {
				first = s.document
			}
		case slices.Contains(wrong, f):
			names = append(names, f.Label.Text)
			if first == nil {
				first = f.Entry
			}
		}
	}
	if s.u.Summary != nil {
		s.u.Summary.Set(lang.X("form.errors", "", map[string]any{"Count": len(names), "Fields": strings.Join(names, ", ")}),
			widget.DangerImportance)
	}
	s.u.win.Canvas().Focus(first)
	return true
}
