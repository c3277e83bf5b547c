package screens

import (
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"consulvote/app/service/servicetest"
	"consulvote/resources"
	"consulvote/screens/screenstest"
	"consulvote/screens/ui"
)

// walkScreens shows every screen of the app in turn, voter's and
// office's, in language, with a form's errors shown where it has some,
// and calls visit on each (h is the harness showing it).
func walkScreens(t *testing.T, language string, visit func(h *harness, name string)) {
	t.Helper()
	if raceOn {
		t.Skip("draws every screen: run without -race (make unit)")
	}
	if err := resources.LoadTranslations(language); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resources.LoadTranslations("fr") })
	e := screenstest.OfficeEnv(t)
	h := newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, withOffice(e), func(o *Options) {
		o.Language = language
		o.OnLanguage = func(string) {}
		o.Backend = "/tmp/consulvote/demo.db"
	})
	look := func(name string) {
		h.Wait()
		visit(h, name)
	}
	look("home")
	walkVoter(h, look)
	h.ui.Home()
	walkOffice(h, look)
}

// walkVoter shows every screen of the voter's, as a voter reaches them:
// by the labels of the buttons and fields.
func walkVoter(h *harness, look func(name string)) {
	h.tapLabel(lang.L("home.lost_identifier"))
	h.tapLabel(lang.L("request.submit")) // every field error
	look("request")
	h.ui.Home()
	h.tapLabel(lang.L("home.lost_identifier"))
	test.Type(h.entry("field.numic"), marie.NUMIC)
	test.Type(h.entry("field.email"), marie.Email)
	h.Enter(h.entry("field.code"), servicetest.Code)
	look("sent")
	h.Tap(h.ui.messagesButton)
	look("outbox")
	h.pasteLink("nonsense")
	look("paste")
	h.pasteLink(h.latestLink())
	h.tapLabel(lang.L("link.submit"))
	look("confirm")
	test.Type(h.entry("field.password"), marie.Password)
	h.Enter(h.entry("field.code"), servicetest.Code)
	look("identifier")
	h.tapLabel(lang.L("common.home"))
	look("identifier-question")
	h.Tap(h.OverlayButton(lang.L("identifier.leave_no")))
	h.tapLabel(lang.L("identifier.copy"))
	identifier := h.App.Clipboard().Content()
	h.tapLabel(lang.L("common.home")) // kept: no question
	h.Tap(h.ui.helpButton)
	look("help")
	h.Tap(h.ui.settingsButton)
	look("settings")
	h.ui.Home()
	h.tapLabel(lang.L("home.lost_password"))
	h.tapLabel(lang.L("password.submit")) // every field error
	look("password")
	test.Type(h.entry("field.identifier"), "AAAAAAAAAAAA")
	test.Type(h.entry("field.numic"), marie.NUMIC)
	h.Enter(h.entry("field.code"), servicetest.Code)
	look("password-sent")
	h.ui.Home()
	test.Type(h.entry("field.identifier"), identifier)
	h.Enter(h.entry("field.password"), marie.Password)
	look("space")
}

// pasteLink pastes link on the "J'ai reçu le courriel" screen.
func (h *harness) pasteLink(link string) {
	h.ui.Home()
	h.tapLabel(lang.L("home.have_mail"))
	h.Enter(h.entry("field.link"), link)
}

// walkOffice shows every screen of the office, as an agent reaches them:
// by the labels of its buttons and fields.
func walkOffice(h *harness, look func(name string)) {
	h.Tap(h.ui.officeButton)
	look("office-login")
	test.Type(h.entry("field.name"), "alice")
	h.submitAgent("alice")
	look("office-home")
	for _, screen := range []struct{ name, key string }{
		{"desk", "office.desk"}, {"monitor", "office.outbox"}, {"import", "office.import"},
		{"campaign", "office.campaign"}, {"audit", "office.audit"},
	} {
		h.Tap(h.ui.officeButton)
		h.tapLabel(lang.L(screen.key))
		look(screen.name)
	}
	h.Tap(h.ui.officeButton)
	h.tapLabel(lang.L("office.desk"))
	h.Enter(h.entry("field.query"), marie.NUMIC)
	look("desk-results")
	h.tapLabel(marie.NUMIC + " — ")
	look("voter-file")
	h.tapLabel(lang.L("file.change"))
	h.tapLabel(lang.L("contact.submit")) // every field error
	look("contact-change")
	test.Type(h.entry("field.new_mobile"), "+33700000001")
	screenstest.ByLabel[*ui.Choice](h.H, lang.L("field.document")).SetSelectedIndex(0)
	h.Enter(h.entry("field.change_reason"), "au guichet")
	look("voter-file-pending")
	h.Tap(h.ui.officeButton)
	h.tapLabel(lang.L("office.approvals"))
	look("approvals")
	// bob, a plain agent, where only an admin approves: the pending
	// change, and in words why there is no "Approuver".
	h.agentLogout()
	h.agentLogin("bob")
	h.tapLabel(lang.L("office.changes"))
	look("pending-changes")
	h.tapLabel(lang.L("approvals.open"))
	look("voter-file-not-approver")
}
