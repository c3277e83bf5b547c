package office

import (
	"errors"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

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
		data["Time"] = words.Time(pe.Until)
	}
	key := "desk.err." + string(pe.Code)
	if pe.Code == portal.CodeRenewalConflict && pe.Until.IsZero() {
		key = "desk.err.renewal_conflict_pending"
	}
	return lang.X(key, "", data)
}

// deskFailed is officeFailed with the desk's words.
func (u *UI) deskFailed(err error, msg *ui.Message) {
	if errors.Is(err, portal.ErrUnauthorized) {
		u.officeFailed(err, msg)
		return
	}
	msg.Set(u.deskText(err), widget.DangerImportance)
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
	return words.Field(fe)
}
