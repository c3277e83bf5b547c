package screens

import (
	"errors"

	"fyne.io/fyne/v2/lang"

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
	key := "err." + string(pe.Code)
	switch {
	case pe.Code == portal.CodeRenewalConflict && pe.Until.IsZero():
		key = "err.renewal_conflict_pending"
	case pe.Code == portal.CodeInvalidInput && len(pe.Fields) > 0:
		return fieldErrorText(pe.Fields[0])
	}
	return lang.X(key, lang.X("err.internal", "err.internal", data), data)
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
// whether there was any. Fields not in the error are cleared.
func showFieldErrors(err error, fields map[portal.Field]*field) bool {
	for _, f := range fields {
		f.setError("")
	}
	any := false
	for _, fe := range portal.FieldErrors(err) {
		if f, ok := fields[fe.Field]; ok {
			f.setError(fieldErrorText(fe))
			any = true
		}
	}
	return any
}
