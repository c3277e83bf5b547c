package screens

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// contactScreen is the proposal of a change of e-mail or mobile, after the
// identity check: the new values, the document seen and the reason. It
// changes nothing by itself: another agent approves it from the voter's
// file or the list of changes to approve.
type contactScreen struct {
	u        *UI
	file     portal.VoterFile
	email    *field
	mobile   *field
	document *choice
	docErr   *widget.Label
	reason   *field
	submitB  *submitButton
	msg      *message
	// done is called with the proposal once stored, back on the file.
	done func(portal.ContactChange)
}

func newContactChange(u *UI, f portal.VoterFile, done func(portal.ContactChange)) *contactScreen {
	s := &contactScreen{u: u, file: f, done: done, msg: newMessage(),
		email:  newField(u, "field.new_email", "field.new_email.help", false),
		mobile: newField(u, "field.new_mobile", "field.new_mobile.help", false),
		reason: newField(u, "field.change_reason", "field.change_reason.help", false),
		docErr: widget.NewLabel("")}
	var names []string
	for _, d := range portal.Documents {
		names = append(names, documentText(d))
	}
	s.document = u.newChoice(lang.L("field.document"), names)
	s.docErr.Importance = widget.DangerImportance
	s.docErr.Wrapping = fyne.TextWrapWord
	s.docErr.Hide()
	s.submitB = u.newSubmit("contact.submit", s.submit)
	s.submitB.submitOn(s.email.entry, s.mobile.entry, s.reason.entry)
	return s
}

func (s *contactScreen) page() *page {
	f := s.file
	docLabel := widget.NewLabelWithStyle(lang.L("field.document"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	docHelp := wrapped(lang.L("field.document.help"))
	docHelp.TextStyle = fyne.TextStyle{Italic: true}
	c := container.NewVBox(heading(lang.L("contact.page")),
		wrapped(lang.X("contact.current", "", map[string]any{"Name": f.LastName + " " + f.FirstNames, "NUMIC": f.NUMIC,
			"Email": f.Email, "Mobile": f.Mobile})),
		wrapped(lang.L("contact.intro")),
		s.email.object(), s.mobile.object(),
		container.NewVBox(docLabel, s.document, docHelp, s.docErr),
		s.reason.object(), s.msg.label, s.submitB.object())
	return &page{title: lang.L("contact.page"), content: c, focus: s.email.entry, screen: s}
}

func (s *contactScreen) selected() portal.Document {
	if i := s.document.SelectedIndex(); i >= 0 {
		return portal.Documents[i]
	}
	return ""
}

func (s *contactScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	req := portal.ContactChangeRequest{VoterID: s.file.ID, Email: s.email.entry.Text, Mobile: s.mobile.entry.Text,
		Document: s.selected(), Reason: s.reason.entry.Text}
	token := s.u.token() // read on the UI goroutine, before the call
	s.submitB.busy(true)
	call(s.u, func(ctx context.Context) (portal.ContactChange, error) {
		return s.u.opt.Office.ProposeContactChange(ctx, token, req)
	}, func(c portal.ContactChange, err error) {
		s.submitB.busy(false)
		switch {
		case err == nil:
			s.u.back()
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
	fields := map[portal.Field]*field{portal.FieldEmail: s.email, portal.FieldMobile: s.mobile, portal.FieldReason: s.reason}
	wrong := setDeskFieldErrors(err, fields)
	s.docErr.Hide()
	for _, fe := range portal.FieldErrors(err) {
		if fe.Field == portal.FieldDocument {
			s.docErr.SetText(deskFieldErrorText(fe))
			s.docErr.Show()
		}
	}
	if !s.docErr.Visible() {
		s.u.summarize(wrong)
		return len(wrong) > 0
	}
	// The chooser is no text field: the summary names it in reading
	// order, between the mobile and the reason.
	var names []string
	var first fyne.Focusable
	for _, f := range []*field{s.email, s.mobile, nil, s.reason} {
		switch {
		case f == nil:
			names = append(names, lang.L("field.document"))
			if first == nil {
				first = s.document
			}
		case slices.Contains(wrong, f):
			names = append(names, f.label.Text)
			if first == nil {
				first = f.entry
			}
		}
	}
	if s.u.summary != nil {
		s.u.summary.set(lang.X("form.errors", "", map[string]any{"Count": len(names), "Fields": strings.Join(names, ", ")}),
			widget.DangerImportance)
	}
	s.u.win.Canvas().Focus(first)
	return true
}

// approvalsScreen lists the changes awaiting approval, oldest first: each
// opens the voter's file, or is approved from here by an agent the
// session says may approve (another agent's proposal only). An agent who
// may not sees the same list, told why it has no "Approuver".
type approvalsScreen struct {
	u       *UI
	may     portal.Permissions
	list    *fyne.Container
	opens   []*button // one per proposal
	approve []*button // one per proposal this agent may approve
	msg     *message
	running bool
}

func newApprovals(u *UI) *approvalsScreen {
	s := &approvalsScreen{u: u, list: list(), msg: newMessage()}
	if u.agent != nil {
		s.may = u.agent.May
	}
	s.load()
	return s
}

func (s *approvalsScreen) page() *page {
	title := lang.L("approvals.page")
	if !s.may.ApproveContactChanges {
		title = lang.L("changes.page")
	}
	c := container.NewVBox(heading(title), s.msg.label, s.list)
	p := &page{title: title, content: c, screen: s}
	if len(s.opens) > 0 {
		p.focus = s.opens[0]
	}
	return p
}

func (s *approvalsScreen) load() {
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) ([]portal.ContactChange, error) {
		return s.u.opt.Office.PendingContactChanges(ctx, token)
	}, func(cs []portal.ContactChange, err error) {
		if err != nil {
			s.u.deskFailed(err, s.msg)
			return
		}
		s.list.RemoveAll()
		s.opens, s.approve = nil, nil
		if len(cs) == 0 {
			s.list.Add(wrapped(lang.L("approvals.none")))
		} else if !s.may.ApproveContactChanges {
			// Said once, in words a screen reader reads before the list.
			s.list.Add(wrapped(lang.L("approvals.admin_only")))
		}
		for _, c := range cs {
			open := s.u.button(lang.L("approvals.open"), nil, func() {
				s.u.show(newVoterFile(s.u, c.VoterID).page())
			})
			// Each says whose proposal it acts on, for a screen reader
			// going from button to button.
			open.label = lang.L("approvals.open") + " — " + c.VoterName
			s.opens = append(s.opens, open)
			s.list.Add(wrapped(lang.X("approvals.item", "", map[string]any{"Voter": c.VoterName, "NUMIC": c.NUMIC,
				"What": changeText(c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile), "Proposer": c.ProposedBy,
				"Time": formatTime(c.ProposedAt), "Document": documentText(c.Document), "Reason": c.Reason,
				"Expires": formatTime(c.ExpiresAt)})))
			mine := s.u.agent != nil && s.u.agent.Name == c.ProposedBy
			switch {
			case mine:
				// Nobody approves their own proposal.
				s.list.Add(wrapped(lang.L("approvals.mine")))
				s.list.Add(container.NewHBox(open))
			case s.may.ApproveContactChanges:
				ok := s.u.button(lang.L("approvals.approve"), nil, func() {
					s.u.confirmApproval(c.VoterName, c, func() { s.doApprove(c) })
				})
				ok.label = lang.L("approvals.approve") + " — " + c.VoterName
				s.approve = append(s.approve, ok)
				s.list.Add(container.NewHBox(open, ok))
			default:
				s.list.Add(container.NewHBox(open))
			}
			s.list.Add(widget.NewSeparator())
		}
		// The first proposal left, or the way back once none is: never
		// nothing (the last one approved took its button with it).
		if top := s.u.top(); top != nil && top.screen == s {
			switch {
			case len(s.opens) > 0:
				s.u.win.Canvas().Focus(s.opens[0])
			case s.u.backButton != nil:
				s.u.win.Canvas().Focus(s.u.backButton)
			}
			s.u.reveal(s.msg.label)
		}
	})
}

func (s *approvalsScreen) doApprove(c portal.ContactChange) {
	if s.running {
		return
	}
	s.running = true
	s.msg.set("", widget.MediumImportance)
	token := s.u.token() // read on the UI goroutine, before the call
	call(s.u, func(ctx context.Context) (portal.ContactChange, error) {
		return s.u.opt.Office.ApproveContactChange(ctx, token, c.ID)
	}, func(_ portal.ContactChange, err error) {
		s.running = false
		if err != nil {
			s.u.deskFailed(err, s.msg)
		} else {
			s.msg.set(lang.X("approvals.approved", "", map[string]any{"Voter": c.VoterName}), widget.SuccessImportance)
		}
		s.load()
	})
}

// confirmApproval asks before a change of contact details is approved,
// naming the voter and the change: one key press must not apply it.
func (u *UI) confirmApproval(voter string, c portal.ContactChange, approve func()) {
	u.ask(lang.L("file.approve_confirm_title"), lang.X("file.approve_confirm_text", "", map[string]any{
		"Voter": voter, "What": changeText(c.OldEmail, c.NewEmail, c.OldMobile, c.NewMobile)}),
		lang.L("file.approve_confirm_no"), lang.L("file.approve_confirm_yes"), approve)
}

// choice is a drop-down list the keyboard drives (arrows choose, Space
// opens the list), with the app's focus ring and Escape going back.
type choice struct {
	widget.Select
	focused  bool
	onEscape func()
	// label names the list for screen readers (its visible label).
	label string
	// onFocus scrolls the page to show the list.
	onFocus func(fyne.CanvasObject)
}

func (u *UI) newChoice(label string, options []string) *choice {
	c := &choice{onEscape: u.escape, label: label, onFocus: func(o fyne.CanvasObject) { u.reveal(o) }}
	c.Options = options
	c.PlaceHolder = label
	c.ExtendBaseWidget(c)
	return c
}

// AccessibilityLabel implements fyne.Accessible: the list's label, and
// what is chosen.
func (c *choice) AccessibilityLabel() string {
	if c.Selected == "" {
		return c.label
	}
	return c.label + " : " + c.Selected
}

// AccessibilityRole implements fyne.Accessible. Fyne 2.8 has no role for
// a list to choose from; a button, which opens it, is the nearest.
func (c *choice) AccessibilityRole() fyne.AccessibleRole { return fyne.AccessibleRoleButton }

// CreateRenderer implements fyne.Widget.
func (c *choice) CreateRenderer() fyne.WidgetRenderer {
	return newRingRenderer(c, c.Select.CreateRenderer(), func() bool { return c.focused })
}

// FocusGained implements fyne.Focusable.
func (c *choice) FocusGained() {
	// Not Fyne's mark, the theme's focus colour as a background, which
	// the placeholder would not read on (see button.FocusGained).
	c.focused = true
	c.Refresh()
	c.onFocus(c)
}

// FocusLost implements fyne.Focusable.
func (c *choice) FocusLost() {
	c.focused = false
	c.Select.FocusLost()
}

// TypedKey implements fyne.Focusable.
func (c *choice) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && c.onEscape != nil {
		c.onEscape()
		return
	}
	c.Select.TypedKey(k)
}

// deskCodes are the errors the desk words for an agent rather than for a
// voter (a lock, a limit, "not both" are the voter's, seen from the desk).
var deskCodes = map[portal.Code]bool{
	portal.CodeSelfApproval: true, portal.CodeChangePending: true, portal.CodeChangeDecided: true,
	portal.CodeChangeExpired: true, portal.CodeContactStale: true, portal.CodeNoMobile: true, portal.CodeLocked: true,
	portal.CodeRenewalConflict: true, portal.CodeRateLimited: true, portal.CodeForbidden: true,
}

// deskText is the sentence shown to an agent for a desk error.
func (u *UI) deskText(err error) string {
	var pe *portal.Error
	if errors.As(err, &pe) && pe.Code == portal.CodeInvalidInput && len(pe.Fields) > 0 {
		return deskFieldErrorText(pe.Fields[0])
	}
	if pe == nil || !deskCodes[pe.Code] {
		return u.errorText(err)
	}
	data := map[string]any{}
	if !pe.Until.IsZero() {
		data["Time"] = formatTime(pe.Until)
	}
	key := "desk.err." + string(pe.Code)
	if pe.Code == portal.CodeRenewalConflict && pe.Until.IsZero() {
		key = "desk.err.renewal_conflict_pending"
	}
	return lang.X(key, "", data)
}

// deskFailed is officeFailed with the desk's words.
func (u *UI) deskFailed(err error, msg *message) {
	if errors.Is(err, portal.ErrUnauthorized) {
		u.officeFailed(err, msg)
		return
	}
	msg.set(u.deskText(err), widget.DangerImportance)
}

// deskFields are the field errors the desk words for an agent.
var deskFields = map[portal.FieldError]bool{}

func init() {
	for _, fe := range []portal.FieldError{
		{Field: portal.FieldEmail, Reason: portal.ReasonRequired}, {Field: portal.FieldEmail, Reason: portal.ReasonFormat},
		{Field: portal.FieldEmail, Reason: portal.ReasonTaken}, {Field: portal.FieldEmail, Reason: portal.ReasonUnchanged},
		{Field: portal.FieldMobile, Reason: portal.ReasonRequired}, {Field: portal.FieldMobile, Reason: portal.ReasonFormat},
		{Field: portal.FieldMobile, Reason: portal.ReasonUnchanged},
		{Field: portal.FieldDocument, Reason: portal.ReasonRequired}, {Field: portal.FieldDocument, Reason: portal.ReasonFormat},
	} {
		deskFields[fe] = true
	}
}

func deskFieldErrorText(fe portal.FieldError) string {
	if deskFields[fe] {
		return lang.L("desk.err." + string(fe.Field) + "." + string(fe.Reason))
	}
	return fieldErrorText(fe)
}

// setDeskFieldErrors puts each field error under its field, in the desk's
// words, clears the others, and returns the fields in error.
func setDeskFieldErrors(err error, fields map[portal.Field]*field) []*field {
	for _, f := range fields {
		f.setError("")
	}
	var wrong []*field
	for _, fe := range portal.FieldErrors(err) {
		if f, ok := fields[fe.Field]; ok {
			f.setError(deskFieldErrorText(fe))
			wrong = append(wrong, f)
		}
	}
	return wrong
}
