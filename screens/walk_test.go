package screens

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"consulvote/app/service/servicetest"
	"consulvote/resources"
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
	e := officeEnv(t)
	h := newHarnessOn(t, e.Service.Portal, e.Service, e.Clock, func(o *Options) {
		o.Office, o.RollAdmin, o.Language = e.Service.Office, e.Service.Office, language
		o.OnLanguage = func(string) {}
		o.Backend = "/tmp/consulvote/demo.db"
	})
	look := func(name string) {
		h.wait()
		visit(h, name)
	}
	look("home")
	h.tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	h.tap(r.send.button)
	look("request")
	h.requestRenewal()
	look("sent")
	h.tap(h.ui.messagesButton)
	look("outbox")
	h.openLink("nonsense")
	look("paste")
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	h.tap(cf.validate.button)
	look("confirm")
	test.Type(cf.password.entry, marie.Password)
	h.enter(cf.code.entry, servicetest.Code)
	id := screenAs[*identifierScreen](h)
	look("identifier")
	h.tap(id.home)
	look("identifier-question")
	h.tap(h.overlayButton(h.overlayConfirmText()))
	h.tap(h.ui.helpButton)
	look("help")
	h.tap(h.ui.settingsButton)
	look("settings")
	h.ui.home()
	h.tap(screenAs[*homeScreen](h).lostPW)
	pw := screenAs[*passwordScreen](h)
	h.tap(pw.send.button)
	look("password")
	test.Type(pw.identifier.entry, "AAAAAAAAAAAA")
	test.Type(pw.numic.entry, marie.NUMIC)
	h.enter(pw.code.entry, servicetest.Code)
	look("password-sent")
	h.ui.home()
	home := screenAs[*homeScreen](h)
	test.Type(home.identifier.entry, id.renewal.Identifier)
	h.enter(home.password.entry, marie.Password)
	look("space")
	h.ui.home()
	h.tap(h.ui.officeButton)
	lg := screenAs[*officeLoginScreen](h)
	look("office-login")
	test.Type(lg.name.entry, "alice")
	h.submitAgent(lg, "alice")
	oh := screenAs[*officeHomeScreen](h)
	look("office-home")
	for name, open := range map[string]*button{"desk": oh.desk, "monitor": oh.outbox, "import": oh.roll, "campaign": oh.campaign, "audit": oh.auditB} {
		h.ui.office()
		h.tap(open)
		look(name)
	}
	h.ui.office()
	h.tap(oh.desk)
	d := screenAs[*deskScreen](h)
	h.enter(d.query.entry, marie.NUMIC)
	look("desk-results")
	h.tap(d.found[0])
	look("voter-file")
	vf := screenAs[*voterFileScreen](h)
	h.tap(vf.changeB)
	cs := screenAs[*contactScreen](h)
	h.tap(cs.submitB.button) // every field error
	look("contact-change")
	test.Type(cs.mobile.entry, "+33700000001")
	cs.document.SetSelectedIndex(0)
	h.enter(cs.reason.entry, "au guichet")
	look("voter-file-pending")
	h.ui.office()
	h.tap(oh.approvals)
	look("approvals")
	// bob, a plain agent, where only an admin approves: the pending
	// change, and in words why there is no "Approuver".
	h.ui.agent = nil
	h.ui.home()
	h.tap(h.ui.officeButton)
	lg = screenAs[*officeLoginScreen](h)
	test.Type(lg.name.entry, "bob")
	h.submitAgent(lg, "bob")
	h.tap(screenAs[*officeHomeScreen](h).approvals)
	look("pending-changes")
	h.tap(screenAs[*approvalsScreen](h).opens[0])
	look("voter-file-not-approver")
}
