// Package words says the portal's answers in the user's language, for
// the voter's screens and the office's alike: an error in one sentence,
// a field's error under the field, a time in the user's local time.
package words

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2/lang"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// Error is the one sentence shown for err, in the user's language;
// contact says how to reach the assistance cell.
func Error(err error, contact string) string {
	data := map[string]any{"Contact": contact}
	if errors.Is(err, context.DeadlineExceeded) {
		err = portal.ErrUnavailable // a call that ran out of time (ui.Call)
	}
	var pe *portal.Error
	if !errors.As(err, &pe) {
		return lang.X("err.internal", "err.internal", data)
	}
	if !pe.Until.IsZero() {
		data["Time"] = Time(pe.Until)
	}
	if pe.Remaining > 0 {
		// "… 2 essais …": the tries left before the lock, where the portal
		// tells them (a wrong password on a login or a link).
		data["Remaining"] = pe.Remaining
		return lang.XN("err."+string(pe.Code)+".remaining", "", pe.Remaining, data)
	}
	if pe.Code == portal.CodeInvalidInput && len(pe.Fields) > 0 {
		return Field(pe.Fields[0])
	}
	key := "err." + string(pe.Code)
	return lang.X(key, lang.X("err.internal", "err.internal", data), data)
}

// Field says what is wrong with one field.
func Field(fe portal.FieldError) string {
	return lang.L("err." + string(fe.Field) + "." + string(fe.Reason))
}

// Time writes t in the user's local time and language.
func Time(t time.Time) string {
	return t.Local().Format(lang.L("format.datetime"))
}

// ShowFieldErrors puts each field error of err under its field and
// returns whether there was any. Fields not in the error are cleared. The
// page's summary lists them, and the first gets the focus, scrolled into
// view (RGAA 11.10, 11.11).
func ShowFieldErrors(n *ui.Nav, err error, fields map[portal.Field]*ui.Field) bool {
	wrong := MarkFields(err, fields, Field)
	n.Summarize(wrong)
	return len(wrong) > 0
}

// MarkFields puts each field error of err under its field, said by say,
// clears the others, and returns the fields in error.
func MarkFields(err error, fields map[portal.Field]*ui.Field, say func(portal.FieldError) string) []*ui.Field {
	for _, f := range fields {
		f.SetError("")
	}
	var wrong []*ui.Field
	for _, fe := range portal.FieldErrors(err) {
		if f, ok := fields[fe.Field]; ok {
			f.SetError(say(fe))
			wrong = append(wrong, f)
		}
	}
	return wrong
}
