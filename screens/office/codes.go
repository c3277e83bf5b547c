package office

import (
	"strings"

	"fyne.io/fyne/v2/lang"
)

// codeLabel is the translation of a code the service records — an audit
// action, a message's kind, state or channel — under prefix ("action.",
// "kind.", "state.", "channel."); a code the translations do not know yet
// is shown as it is rather than hidden.
func codeLabel(prefix, code string) string {
	key := prefix + code
	if t := lang.L(key); t != key {
		return t
	}
	return code
}

// actorLabel names who did something in the audit log: "voter:12" is
// Électeur n° 12, "agent:alice" Agent alice, "system" Système.
func actorLabel(actor string) string {
	if id, ok := strings.CutPrefix(actor, "voter:"); ok {
		return lang.X("actor.voter", "", map[string]any{"ID": id})
	}
	if name, ok := strings.CutPrefix(actor, "agent:"); ok {
		return lang.X("actor.agent", "", map[string]any{"Name": name})
	}
	return codeLabel("actor.", actor)
}
