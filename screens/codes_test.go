package screens

import (
	"strings"
	"testing"

	"consulvote/app/portal"
	"consulvote/resources"
)

// rawCodes finds, in what a screen shows, a word of the service's
// vocabulary as it is recorded (the dotted ones: "login" is also
// English), or an actor's raw form.
func rawCodes(text string) []string {
	var found []string
	for _, w := range append(append([]string{}, portal.AuditActions...), portal.MessageKinds...) {
		for _, field := range strings.FieldsFunc(text, func(r rune) bool {
			return r == ' ' || r == '\n' || r == '(' || r == ')' || r == ',' || r == ':' || r == '[' || r == ']' || r == '—'
		}) {
			if field == w && strings.Contains(w, ".") {
				found = append(found, w)
			}
		}
	}
	for _, prefix := range []string{"voter:", "agent:"} {
		if strings.Contains(text, prefix) {
			found = append(found, prefix)
		}
	}
	return found
}

// TestNoRawCodeOnAnyScreen walks every screen in both languages and fails
// on a recorded word shown as it is recorded.
func TestNoRawCodeOnAnyScreen(t *testing.T) {
	for _, language := range resources.Languages {
		walkScreens(t, language, func(h *harness, name string) {
			txt := h.Texts()
			for _, c := range rawCodes(txt) {
				t.Errorf("%s, %s: shows the raw code %q", language, name, c)
			}
			if strings.Contains(txt, "<no value>") {
				t.Errorf("%s, %s: a sentence lacks one of its facts:\n%s", language, name, txt)
			}
		})
	}
}
