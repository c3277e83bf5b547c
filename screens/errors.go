package screens

import (
	"errors"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// errorText is the one sentence shown for err, in the user's language.
func (u *UI) errorText(err error) string {
	data := map[string]any{"Contact": u.opt.Assistance}
	var pe *portal.Error
	if !errors.As(err, &pe) {
		return lang.X("err.internal", "err.internal", data)
	}
	if !pe.Until.IsZero() {
		data["Time"] = formatTime(pe.Until)
	}
	if pe.Remaining > 0 {
		// "… 2 essais …": the tries left before the lock, where the portal
		// tells them (a wrong password on a login or a link).
		data["Remaining"] = pe.Remaining
		return lang.XN("err."+string(pe.Code)+".remaining", "", pe.Remaining, data)
	}
	if pe.Code == portal.CodeInvalidInput && len(pe.Fields) > 0 {
		return fieldErrorText(pe.Fields[0])
	}
	key := "err." + string(pe.Code)
	return lang.X(key, lang.X("err.internal", "err.internal", data), data)
}

// lockedText is the lock err announces, worded by key: until when, and
// how to reach the assistance cell.
func (u *UI) lockedText(key string, err error) string {
	data := map[string]any{"Contact": u.opt.Assistance, "Time": "—"}
	var pe *portal.Error
	if errors.As(err, &pe) && !pe.Until.IsZero() {
		data["Time"] = formatTime(pe.Until)
	}
	return lang.X(key, "", data)
}

// passwordConflictText is the refusal of a password renewal because the
// identifier's renewal is under way or recent.
func (u *UI) passwordConflictText(err error) string {
	var pe *portal.Error
	errors.As(err, &pe)
	data := map[string]any{"Contact": u.opt.Assistance}
	if pe == nil || pe.Until.IsZero() {
		return lang.X("err.renewal_conflict_identifier_pending", "", data)
	}
	data["Time"] = formatTime(pe.Until)
	return lang.X("err.renewal_conflict_identifier", "", data)
}

// fieldErrorText says what is wrong with one field.
func fieldErrorText(fe portal.FieldError) string {
	return lang.L("err." + string(fe.Field) + "." + string(fe.Reason))
}

// isLinkError reports whether err means the link cannot be used, so that
// the next step is to request a new one.
func isLinkError(err error) bool {
	for _, e := range []error{portal.ErrLinkUnknown, portal.ErrLinkExpired, portal.ErrLinkUsed,
		portal.ErrLinkReplaced, portal.ErrLinkRevoked, portal.ErrLocked} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// showFieldErrors puts each field error under its field and returns
// whether there was any. Fields not in the error are cleared. The page's
// summary lists them, and the first gets the focus, scrolled into view
// (RGAA 11.10, 11.11).
func (u *UI) showFieldErrors(err error, fields map[portal.Field]*field) bool {
	for _, f := range fields {
		f.setError("")
	}
	var wrong []*field
	for _, fe := range portal.FieldErrors(err) {
		if f, ok := fields[fe.Field]; ok {
			f.setError(fieldErrorText(fe))
			wrong = append(wrong, f)
		}
	}
	u.summarize(wrong)
	return len(wrong) > 0
}

// summarize says at the top of the page which fields need correcting, in
// reading order, and takes the user to the first; no fields clears it.
func (u *UI) summarize(wrong []*field) {
	if u.summary == nil || len(wrong) > 0 && !u.onPage(wrong[0].entry) {
		return // a page left while its call ran
	}
	if len(wrong) == 0 {
		u.summary.set("", widget.MediumImportance)
		return
	}
	d := fyne.CurrentApp().Driver()
	sort.SliceStable(wrong, func(i, j int) bool {
		return d.AbsolutePositionForObject(wrong[i].entry).Y < d.AbsolutePositionForObject(wrong[j].entry).Y
	})
	names := make([]string, 0, len(wrong))
	for _, f := range wrong {
		if !slices.Contains(names, f.label.Text) {
			names = append(names, f.label.Text)
		}
	}
	u.summary.set(lang.XN("form.errors", "", len(names), map[string]any{"Count": len(names), "Fields": strings.Join(names, ", ")}),
		widget.DangerImportance)
	u.failed(wrong[0], u.summary.label, wrong[0].err)
}

// failed is how every form shows that its submit failed (RGAA 11.10): what
// went wrong (the summary naming the fields to correct, or the page's
// message) is scrolled into view and said, then the field to correct gets
// the focus, scrolled so that it and its message are both in view. Fyne
// 2.8.1 has no live region for a screen reader (fyne.AccessibleRole knows
// button, container, link and text): a reader says the name of what gets
// the focus, so the message is said as part of the field's name.
func (u *UI) failed(f *field, said, below *widget.Label) {
	if !u.onPage(f.entry) {
		return // a page left while its call ran
	}
	u.reveal(said)
	if below != f.err {
		f.setError("")
		f.entry.label = f.label.Text + " — " + below.Text
	}
	u.win.Canvas().Focus(f.entry)
	u.reveal(f.label, f.entry, below)
}

// onPage reports whether o is laid out in the page shown, by its
// containers.
func (u *UI) onPage(o fyne.CanvasObject) bool {
	p := u.top()
	return p != nil && contains(p.content, o)
}

func contains(root, o fyne.CanvasObject) bool {
	if root == o {
		return true
	}
	if c, ok := root.(*fyne.Container); ok {
		for _, child := range c.Objects {
			if contains(child, o) {
				return true
			}
		}
	}
	return false
}

// formFailed shows why a form with a security code failed: under the code
// when the code was wrong or expired, under the fields the error names,
// else in msg, worded by text. Every attempt spends its code, so a new one
// is drawn.
func (u *UI) formFailed(err error, code *codeField, fields map[portal.Field]*field, msg *message, text func(error) string) {
	switch {
	case errors.Is(err, portal.ErrSecurityCodeWrong), errors.Is(err, portal.ErrSecurityCodeExpired):
		code.setError(u.errorText(err))
		code.load()
		u.summarize([]*field{code.field})
	case u.showFieldErrors(err, fields):
	default:
		msg.set(text(err), widget.DangerImportance)
		code.load()
		u.failed(code.field, msg.label, msg.label)
	}
}
