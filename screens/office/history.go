package office

import (
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"consulvote/app/portal"
	"consulvote/screens/words"
)

// historyText says an audit entry in words, in the user's language: who
// did what, and the facts the entry holds (reason, document, approver,
// old and new addresses), never its raw code. An action the translations
// do not know falls back to the entry as stored.
func historyText(h portal.HistoryEntry) string {
	data := map[string]any{"Actor": actorLabel(h.Actor), "Action": h.Action, "Detail": h.Detail}
	// Every fact a sentence may print has a value: an older entry that
	// lacks one shows a dash, not "<no value>".
	for _, k := range []string{"reason", "proposer", "to", "kept", "roll", "failure", "change",
		"name", "moved", "unsigned", "rows", "problems", "campaign", "sent", "message", "first", "last",
		"lines", "inserted", "updated", "unchanged", "refused", "kept_count", "until"} {
		data[k] = "—"
	}
	data["links_cancelled"] = "false"
	for k, v := range h.Params {
		data[k] = v
	}
	for _, k := range []string{"until", "expires", "since"} {
		if t, err := time.Parse(time.RFC3339, h.Params[k]); err == nil {
			data[k] = words.Time(t)
		}
	}
	if r := h.Params["role"]; r == string(portal.RoleAdmin) || r == string(portal.RoleAgent) {
		data["Role"] = lang.L("office.role." + r)
	} else {
		data["Role"] = r
	}
	if d := h.Params["document"]; d != "" {
		data["Document"] = documentText(portal.Document(d))
	}
	data["What"] = changeText(h.Params["email_old"], h.Params["email_new"], h.Params["mobile_old"], h.Params["mobile_new"])
	for _, w := range []struct{ param, name, prefix string }{
		{"why", "Why", "history.why."}, {"kind", "Kind", "history.kind."}, {"field", "Field", "history.field."},
	} {
		if v := h.Params[w.param]; v != "" && historyWords[w.prefix+v] {
			data[w.name] = lang.L(w.prefix + v)
		} else {
			data[w.name] = v
		}
	}
	if !historyWords["history."+h.Action] {
		return lang.X("audit.entry", "", map[string]any{"Time": words.Time(h.At), "Actor": actorLabel(h.Actor),
			"Action": codeLabel("action.", h.Action), "Detail": h.Detail})
	}
	return words.Time(h.At) + " — " + lang.X("history."+h.Action, "", data)
}

// historyWords are the translation keys of the history's sentences and
// of the facts they name; TestHistoryInWords checks both languages have
// each one.
var historyWords = map[string]bool{}

func init() {
	for _, a := range []string{
		"voter.demo_seeded", "identifier.request", "identifier.request.no_match", "identifier.request.refused",
		"identifier.confirm.failed", "identifier.renewed", "password.request.wrong_numic", "password.request.locked",
		"password.request.refused", "password.request.no_mobile", "password.renewed", "login", "login.failed",
		"voter.locked", "voter.unlocked", "voter.links_cancelled", "credentials.skipped",
		"contact.change.proposed", "contact.change.approved", "contact.change.rejected", "contact.change.withdrawn",
		"contact.change.expired", "contact.change.refused", "contact.change.approval_refused",
		"desk.renewal.identifier", "desk.renewal.password", "desk.renewal.refused", "roll.difference_kept",
		"agent.added", "agent.login", "agent.login.failed", "agent.throttled", "audit.verified",
		"credentials.sent", "identifier.request.rate_limited", "password.request.rate_limited", "login.blocked",
		"outbox.retry", "password.request.no_match", "roll.batch", "roll.imported",
		"agent.second_factor_reset", "agent.second_factor_locked", "agent.email_set",
	} {
		historyWords["history."+a] = true
	}
	for _, w := range []string{"locked", "email_taken", "pending", "self", "not_admin", "expired", "decided", "stale",
		"agent_limit", "voter_limit", "not_both", "no_mobile"} {
		historyWords["history.why."+w] = true
	}
	for _, k := range []string{"kind.identifier", "kind.password", "field.email", "field.mobile"} {
		historyWords["history."+k] = true
	}
}

// documentText names an identity document.
func documentText(d portal.Document) string {
	if !d.Valid() {
		return string(d)
	}
	return lang.L("document." + string(d))
}

// changeText says what a change of contact details changes: "the e-mail
// address (a → b) and the mobile (c → d)".
func changeText(emailOld, emailNew, mobileOld, mobileNew string) string {
	var parts []string
	if emailNew != "" {
		parts = append(parts, lang.X("change.email", "", map[string]any{"Old": emailOld, "New": emailNew}))
	}
	if mobileNew != "" {
		parts = append(parts, lang.X("change.mobile", "", map[string]any{"Old": mobileOld, "New": mobileNew}))
	}
	return strings.Join(parts, lang.L("change.and"))
}
