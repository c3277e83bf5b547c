package screens

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"consulvote/app/portal"
	"consulvote/app/service/servicetest"
	"consulvote/resources"
	"consulvote/screens/screenstest"
	"consulvote/screens/words"
)

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
				h.Wait()
				txt := h.Texts()
				if k := screenstest.RawKey.FindString(txt); k != "" {
					t.Errorf("%q shows the raw key %q", h.Win.Title(), strings.TrimSpace(k))
				}
				// The outbox shows the messages in the voter's language.
				if _, ok := h.ui.Top().Screen.(*outboxScreen); !ok {
					seen.WriteString(txt)
				}
			}
			look()
			h.Tap(screenAs[*homeScreen](h).lostID)
			r := screenAs[*requestScreen](h)
			h.Tap(r.send.Button) // every field error
			look()
			h.requestRenewal()
			look()
			h.Tap(h.ui.messagesButton)
			look()
			h.openLink(h.latestLink())
			cf := screenAs[*confirmScreen](h)
			h.Tap(cf.validate.Button)
			look()
			test.Type(cf.password.Entry, marie.Password)
			h.Enter(cf.code.Entry, servicetest.Code)
			id := screenAs[*identifierScreen](h)
			newID := id.renewal.Identifier // the screen forgets it once left
			h.Tap(id.home)
			look() // the dialog
			h.Tap(h.OverlayButton(h.overlayConfirmText()))
			h.Tap(h.ui.helpButton)
			look()
			h.ui.Home()
			h.Tap(screenAs[*homeScreen](h).lostPW)
			pw := screenAs[*passwordScreen](h)
			h.Tap(pw.send.Button)
			look()
			test.Type(pw.identifier.Entry, "AAAAAAAAAAAA")
			test.Type(pw.numic.Entry, marie.NUMIC)
			h.Enter(pw.code.Entry, servicetest.Code)
			screenAs[*passwordSentScreen](h)
			look()
			h.ui.Home()
			home := screenAs[*homeScreen](h)
			test.Type(home.identifier.Entry, newID)
			h.Enter(home.password.Entry, marie.Password)
			look()
			// The office, as an admin, every screen.
			e := screenstest.OfficeEnv(t)
			ho := newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, withOffice(e), func(o *Options) { o.Language = language })
			ho.agentLogin("alice")
			for _, key := range []string{"office.desk", "office.approvals", "office.outbox", "office.import", "office.campaign", "office.audit"} {
				ho.Tap(ho.ui.officeButton)
				ho.tapLabel(lang.L(key))
				txt := ho.Texts()
				if k := screenstest.RawKey.FindString(txt); k != "" {
					t.Errorf("%q shows the raw key %q", ho.Win.Title(), strings.TrimSpace(k))
				}
				seen.WriteString(txt)
			}
			ho.openFile("alice", marie.NUMIC)
			if k := screenstest.RawKey.FindString(ho.Texts()); k != "" {
				t.Errorf("voter file shows the raw key %q", strings.TrimSpace(k))
			}
			seen.WriteString(ho.Texts())
			ho.tapLabel(lang.L("file.change"))
			ho.tapLabel(lang.L("contact.submit")) // every field error
			if k := screenstest.RawKey.FindString(ho.Texts()); k != "" {
				t.Errorf("contact change shows the raw key %q", strings.TrimSpace(k))
			}
			seen.WriteString(ho.Texts())
			// The office shows what the service records in words, not codes.
			ho.Tap(ho.ui.officeButton)
			ho.tapLabel(lang.L("office.audit"))
			office := ho.Texts()
			ho.openFile("alice", marie.NUMIC)
			office += ho.Texts()
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
				if screenstest.RawKey.MatchString(text) || text == h.ui.errorText(&portal.Error{Code: portal.CodeInternal}) {
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
				if text := words.Field(fe); screenstest.RawKey.MatchString(text) {
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
	// The fourth, over the per-NUMIC limit: the screen answers as for any
	// request (it must not tell whether the data match); the e-mail says
	// until when.
	for range 4 {
		h.requestRenewal()
	}
	h.See("Si le NUMIC et l'adresse électronique saisis correspondent à votre inscription")
}

func TestLanguageSwitchButton(t *testing.T) {
	var asked string
	h, _ := newFakeHarness(t, func(o *Options) { o.OnLanguage = func(l string) { asked = l } })
	if h.ui.languageButton == nil || h.ui.languageButton.Text != "English" {
		t.Fatal("no button to switch to English")
	}
	h.Tap(h.ui.languageButton)
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
		if got := words.Time(time.Date(2026, 5, 6, 14, 5, 0, 0, time.UTC)); got != tc.date {
			t.Errorf("%s: date %q, want %q", tc.language, got, tc.date)
		}
	}
	resources.LoadTranslations("fr")
	h, _ := newFakeHarness(t, func(o *Options) { o.Language = "fr" })
	h.See("Mai 2026")
}
