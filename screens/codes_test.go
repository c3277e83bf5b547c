package screens

import (
	"encoding/json"
	"strings"
	"testing"

	"consulvote/app/service"
	"consulvote/resources"
)

// TestEveryRecordedWordTranslated: every action, message kind, state and
// channel, and every actor the service records (app/service/vocabulary.go,
// which servicetest holds the service to) has its words in each language,
// so that codeLabel never falls back to the code.
func TestEveryRecordedWordTranslated(t *testing.T) {
	var keys []string
	for _, w := range service.AuditActions {
		keys = append(keys, "action."+w)
	}
	for _, w := range service.MessageKinds {
		keys = append(keys, "kind."+w)
	}
	for _, w := range service.MessageStates {
		keys = append(keys, "state."+w)
	}
	for _, w := range service.Channels {
		keys = append(keys, "channel."+string(w))
	}
	for _, w := range append(service.Actors, "voter", "agent") {
		keys = append(keys, "actor."+w)
	}
	for _, language := range resources.Languages {
		b, err := resources.Translation(language)
		if err != nil {
			t.Fatal(err)
		}
		var table map[string]any
		if err := json.Unmarshal(b, &table); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if s, _ := table[k].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no words for %s", language, k)
			}
		}
	}
}

// rawCodes finds, in what a screen shows, a word of the service's
// vocabulary as it is recorded (the dotted ones: "login" is also
// English), or an actor's raw form.
func rawCodes(text string) []string {
	var found []string
	for _, w := range append(append([]string{}, service.AuditActions...), service.MessageKinds...) {
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
			for _, c := range rawCodes(h.texts()) {
				t.Errorf("%s, %s: shows the raw code %q", language, name, c)
			}
		})
	}
}
