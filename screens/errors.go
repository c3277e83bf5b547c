package screens

import (
	"errors"

	"fyne.io/fyne/v2/lang"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// errorText is the one sentence shown for err, in the user's language.
func (u *UI) errorText(err error) string { return words.Error(err, u.opt.Assistance) }

// lockedText is the lock err announces, worded by key: until when, and
// how to reach the assistance cell.
func (u *UI) lockedText(key string, err error) string {
	data := map[string]any{"Contact": u.opt.Assistance, "Time": "—"}
	var pe *portal.Error
	if errors.As(err, &pe) && !pe.Until.IsZero() {
		data["Time"] = words.Time(pe.Until)
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
	data["Time"] = words.Time(pe.Until)
	return lang.X("err.renewal_conflict_identifier", "", data)
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
// whether there was any (words.ShowFieldErrors).
func (u *UI) showFieldErrors(err error, fields map[portal.Field]*ui.Field) bool {
	return words.ShowFieldErrors(u.Nav, err, fields)
}
