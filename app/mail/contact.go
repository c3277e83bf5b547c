package mail

import "strings"

// ContactNotice says what a change of contact details changed, for the
// notices sent to the old and the new addresses.
type ContactNotice struct {
	Email  bool // the e-mail address changed
	Mobile bool // the mobile number changed
	// ToNew: the notice goes to the new e-mail address (else to the old
	// one, or to the unchanged one when only the mobile changed).
	ToNew bool
	// LinkCancelled: a renewal link sent before the change was cancelled.
	LinkCancelled bool
}

// ContactChanged composes the notice of a change of contact details made
// by the consulate's desk. It holds no secret and neither address: only
// what changed, and whom to call if the voter did not ask for it.
func (l Letterhead) ContactChanged(env Envelope, n ContactNotice) (Message, error) {
	return l.compose(env, "contact-changed", map[string]any{"Email": n.Email, "Mobile": n.Mobile,
		"ToNew": n.ToNew, "LinkCancelled": n.LinkCancelled})
}

// MobileChangedSMS is the text sent to the old (toNew false) or the new
// mobile number after the desk changed it. It holds no secret.
func MobileChangedSMS(lang string, toNew bool) string {
	var b strings.Builder
	// The template is checked at start and takes one boolean: it cannot fail.
	_ = messages.sms("mobile-changed", lang).Execute(&b, map[string]any{"ToNew": toNew})
	return b.String()
}
