package screens

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"consulvote/app/portal"
	"consulvote/app/service/servicetest"
	"consulvote/resources"
	"consulvote/screens/ui"
)

// rawKey is what lang.L shows for a key missing from the translations.
var rawKey = regexp.MustCompile(`(?m)^\s*[a-z_]+\.[a-z_.]+\s*$`)

// TestEveryScreenTranslated walks every screen in each language and fails
// on any text that is a bare translation key, or French left in English.
func TestEveryScreenTranslated(t *testing.T) {
	for _, language := range resources.Languages {
		t.Run(language, func(t *testing.T) {
			if err := resources.LoadTranslations(language); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			h := newHarness(t, func(o *Options) { o.Language = language; o.OnLanguage = func(string) {} })
			var seen strings.Builder
			look := func() {
				h.wait()
				txt := h.texts()
				if k := rawKey.FindString(txt); k != "" {
					t.Errorf("%q shows the raw key %q", h.win.Title(), strings.TrimSpace(k))
				}
				// The outbox shows the messages in the voter's language.
				if _, ok := h.ui.Top().Screen.(*outboxScreen); !ok {
					seen.WriteString(txt)
				}
			}
			look()
			h.tap(screenAs[*homeScreen](h).lostID)
			r := screenAs[*requestScreen](h)
			h.tap(r.send.Button) // every field error
			look()
			h.requestRenewal()
			look()
			h.tap(h.ui.messagesButton)
			look()
			h.openLink(h.latestLink())
			cf := screenAs[*confirmScreen](h)
			h.tap(cf.validate.Button)
			look()
			test.Type(cf.password.Entry, marie.Password)
			h.enter(cf.code.Entry, servicetest.Code)
			id := screenAs[*identifierScreen](h)
			h.tap(id.home)
			look() // the dialog
			h.tap(h.overlayButton(h.overlayConfirmText()))
			h.tap(h.ui.helpButton)
			look()
			h.ui.Home()
			h.tap(screenAs[*homeScreen](h).lostPW)
			pw := screenAs[*passwordScreen](h)
			h.tap(pw.send.Button)
			look()
			test.Type(pw.identifier.Entry, "AAAAAAAAAAAA")
			test.Type(pw.numic.Entry, marie.NUMIC)
			h.enter(pw.code.Entry, servicetest.Code)
			screenAs[*passwordSentScreen](h)
			look()
			h.ui.Home()
			home := screenAs[*homeScreen](h)
			test.Type(home.identifier.Entry, id.renewal.Identifier)
			h.enter(home.password.Entry, marie.Password)
			look()
			// The office, as an admin, every screen.
			e := officeEnv(t)
			ho := newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, func(o *Options) {
				o.Office, o.RollAdmin, o.Language = e.Service.Office, e.Service.Office, language
			})
			ho.tap(ho.ui.officeButton)
			lg := screenAs[*officeLoginScreen](ho)
			test.Type(lg.name.Entry, "alice")
			ho.submitAgent(lg, "alice")
			oh := screenAs[*officeHomeScreen](ho)
			for _, open := range []*ui.Button{oh.desk, oh.approvals, oh.outbox, oh.roll, oh.campaign, oh.auditB} {
				ho.ui.office()
				ho.tap(open)
				txt := ho.texts()
				if k := rawKey.FindString(txt); k != "" {
					t.Errorf("%q shows the raw key %q", ho.win.Title(), strings.TrimSpace(k))
				}
				seen.WriteString(txt)
			}
			ho.ui.office()
			ho.tap(oh.desk)
			d := screenAs[*deskScreen](ho)
			ho.enter(d.query.Entry, marie.NUMIC)
			ho.tap(d.found[0])
			if k := rawKey.FindString(ho.texts()); k != "" {
				t.Errorf("voter file shows the raw key %q", strings.TrimSpace(k))
			}
			seen.WriteString(ho.texts())
			vf := screenAs[*voterFileScreen](ho)
			ho.tap(vf.changeB)
			cs := screenAs[*contactScreen](ho)
			ho.tap(cs.submitB.Button) // every field error
			if k := rawKey.FindString(ho.texts()); k != "" {
				t.Errorf("contact change shows the raw key %q", strings.TrimSpace(k))
			}
			seen.WriteString(ho.texts())
			// The office shows what the service records in words, not codes.
			ho.ui.office()
			ho.tap(oh.auditB)
			office := ho.texts()
			ho.ui.office()
			ho.tap(oh.desk)
			d = screenAs[*deskScreen](ho)
			ho.enter(d.query.Entry, marie.NUMIC)
			ho.tap(d.found[0])
			office += ho.texts()
			for _, raw := range []string{"voter:", "agent:", "agent.login", "voter.", "identifier.request", "identifier.link", "credentials.", ": pending", ": sent"} {
				if strings.Contains(office, raw) {
					t.Errorf("the office shows the raw code %q", raw)
				}
			}
			if language == "en" {
				for _, french := range []string{"Identifiant", "Mot de passe", "Adresse électronique", "Valider", "Envoyé", "Guichet", "Rechercher", "Débloquer", "Importer", "Journal"} {
					if strings.Contains(seen.String(), french) {
						t.Errorf("English screens show the French %q", french)
					}
				}
			}
			// Each portal error has its own sentence in this language.
			for _, code := range []portal.Code{portal.CodeSecurityCodeWrong, portal.CodeSecurityCodeExpired,
				portal.CodeRateLimited, portal.CodeRenewalConflict, portal.CodeLinkUnknown, portal.CodeLinkExpired,
				portal.CodeLinkUsed, portal.CodeLinkReplaced, portal.CodeLinkRevoked, portal.CodeWrongPasswordOrCode,
				portal.CodeLocked, portal.CodeBadLogin, portal.CodeUnavailable} {
				text := h.ui.errorText(&portal.Error{Code: code})
				if rawKey.MatchString(text) || text == h.ui.errorText(&portal.Error{Code: portal.CodeInternal}) {
					t.Errorf("%s: no sentence of its own (%q)", code, text)
				}
			}
			for _, fe := range []portal.FieldError{
				{Field: portal.FieldNUMIC, Reason: portal.ReasonRequired}, {Field: portal.FieldNUMIC, Reason: portal.ReasonFormat},
				{Field: portal.FieldEmail, Reason: portal.ReasonRequired}, {Field: portal.FieldEmail, Reason: portal.ReasonFormat},
				{Field: portal.FieldCode, Reason: portal.ReasonRequired}, {Field: portal.FieldCode, Reason: portal.ReasonFormat},
				{Field: portal.FieldPassword, Reason: portal.ReasonRequired}, {Field: portal.FieldPassword, Reason: portal.ReasonTooLong},
				{Field: portal.FieldIdentifier, Reason: portal.ReasonRequired}, {Field: portal.FieldIdentifier, Reason: portal.ReasonTooLong},
				{Field: portal.FieldLink, Reason: portal.ReasonFormat},
			} {
				if text := fieldErrorText(fe); rawKey.MatchString(text) {
					t.Errorf("%v: no sentence (%q)", fe, text)
				}
			}
		})
	}
}

func (h *harness) overlayConfirmText() string {
	if h.ui.opt.Language == "en" {
		return "Leave this screen"
	}
	return "Quitter cet écran"
}

func TestRateLimitedMessage(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		h.requestRenewal()
	}
	h.ui.Home()
	h.tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	h.enter(r.code.Entry, servicetest.Code)
	// Over the per-NUMIC limit the screen answers as for any request (it
	// must not tell whether the data match); the e-mail says until when.
	screenAs[*sentScreen](h)
	h.see("Si le NUMIC et l'adresse électronique saisis correspondent à votre inscription")
}

func TestLanguageSwitchButton(t *testing.T) {
	var asked string
	h, _ := newFakeHarness(t, func(o *Options) { o.OnLanguage = func(l string) { asked = l } })
	if h.ui.languageButton == nil || h.ui.languageButton.Text != "English" {
		t.Fatal("no button to switch to English")
	}
	h.tap(h.ui.languageButton)
	if asked != "en" {
		t.Fatalf("switch asked for %q", asked)
	}
}

// TestElectionLineAndDatesInLanguage: "Mai 2026" reads "May 2026" in
// English; dates carry their offset from UTC, the same on every screen.
func TestElectionLineAndDatesInLanguage(t *testing.T) {
	for _, tc := range []struct{ language, election, date string }{
		{"fr", "Mai 2026", "06/05/2026 à 14h05 (UTC+00:00)"},
		{"en", "May 2026", "6 May 2026 at 14:05 (UTC+00:00)"},
	} {
		if err := resources.LoadTranslations(tc.language); err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{"Mai 2026", "mai 2026", "2026-05"} {
			if got := electionLine(in); got != tc.election {
				t.Errorf("%s: %q reads %q, want %q", tc.language, in, got, tc.election)
			}
		}
		if got := electionLine("Printemps 2026"); got != "Printemps 2026" {
			t.Errorf("an unknown line became %q", got)
		}
		if got := formatTime(time.Date(2026, 5, 6, 14, 5, 0, 0, time.UTC)); got != tc.date {
			t.Errorf("%s: date %q, want %q", tc.language, got, tc.date)
		}
	}
	resources.LoadTranslations("fr")
	h, _ := newFakeHarness(t, func(o *Options) { o.Language = "fr" })
	h.see("Mai 2026")
}
