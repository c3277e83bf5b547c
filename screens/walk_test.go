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
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	h.Tap(r.send.Button)
	look("request")
	h.requestRenewal()
	look("sent")
	h.Tap(h.ui.messagesButton)
	look("outbox")
	h.openLink("nonsense")
	look("paste")
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	h.Tap(cf.validate.Button)
	look("confirm")
	test.Type(cf.password.Entry, marie.Password)
	h.Enter(cf.code.Entry, servicetest.Code)
	id := screenAs[*identifierScreen](h)
	look("identifier")
	h.Tap(id.home)
	look("identifier-question")
	h.Tap(h.OverlayButton(h.overlayConfirmText()))
	h.Tap(h.ui.helpButton)
	look("help")
	h.Tap(h.ui.settingsButton)
	look("settings")
	h.ui.Home()
	h.Tap(screenAs[*homeScreen](h).lostPW)
	pw := screenAs[*passwordScreen](h)
	h.Tap(pw.send.Button)
	look("password")
	test.Type(pw.identifier.Entry, "AAAAAAAAAAAA")
	test.Type(pw.numic.Entry, marie.NUMIC)
	h.Enter(pw.code.Entry, servicetest.Code)
	look("password-sent")
	h.ui.Home()
	home := screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, id.renewal.Identifier)
	h.Enter(home.password.Entry, marie.Password)
	look("space")
	h.ui.Home()
	walkOffice(h, look)
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
