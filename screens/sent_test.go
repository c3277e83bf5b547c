package screens

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"consulvote/app/service/servicetest"
	"consulvote/resources"
)

// TestSentSaysTheDeskSees: both "sent" pages, the e-mail's and the
// SMS's, tell the voter that the help desk can see whether the message
// arrived, in both languages, and nothing more: a request that matched
// no voter gets the same page, word for word.
func TestSentSaysTheDeskSees(t *testing.T) {
	for _, tc := range []struct{ lang, email, sms string }{
		{"fr", "Si le courriel n'arrive pas, le service d'assistance peut voir s'il a été distribué",
			"Si le SMS n'arrive pas, le service d'assistance peut voir s'il a été distribué"},
		{"en", "If the e-mail does not arrive, the help desk can see whether it was delivered",
			"If the SMS does not arrive, the help desk can see whether it was delivered"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.lang); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			sent := func(h *harness, identifier, email string) string {
				h.ui.Home()
				if identifier == "" {
					h.Tap(screenAs[*homeScreen](h).lostID)
					r := screenAs[*requestScreen](h)
					test.Type(r.numic.Entry, marie.NUMIC)
					test.Type(r.email.Entry, email)
					h.Enter(r.code.Entry, servicetest.Code)
					screenAs[*sentScreen](h)
				} else {
					h.Tap(screenAs[*homeScreen](h).lostPW)
					p := screenAs[*passwordScreen](h)
					test.Type(p.identifier.Entry, identifier)
					test.Type(p.numic.Entry, marie.NUMIC)
					h.Enter(p.code.Entry, servicetest.Code)
					screenAs[*passwordSentScreen](h)
				}
				return h.Texts()
			}
			for _, c := range []struct{ want, hit, miss string }{
				{tc.email, sent(newHarness(t), "", marie.Email), sent(newHarness(t), "", "nobody@example.org")},
				{tc.sms, sent(newHarness(t), marie.Identifier, ""), sent(newHarness(t), "AAAAAAAAAAAA", "")},
			} {
				if !strings.Contains(c.hit, c.want) {
					t.Errorf("the page lacks %q:\n%s", c.want, c.hit)
				}
				if c.hit != c.miss {
					t.Errorf("a miss shows\n%s\nwhere a voter's request shows\n%s", c.miss, c.hit)
				}
			}
		})
	}
}
