package screens

import (
	"errors"

	"fyne.io/fyne/v2/lang"

	"consulvote/app/portal"
	"consulvote/screens/ui"
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
func (u *UI) showFieldErrors(err error, fields map[portal.Field]*ui.Field) bool {
	for _, f := range fields {
		f.SetError("")
	}
	var wrong []*ui.Field
	for _, fe := range portal.FieldErrors(err) {
		if f, ok := fields[fe.Field]; ok {
			f.SetError(fieldErrorText(fe))
			wrong = append(wrong, f)
		}
	}
	u.Summarize(wrong)
	return len(wrong) > 0
}
