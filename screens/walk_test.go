package screens

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"consulvote/app/service/servicetest"
	"consulvote/resources"
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
	h.tap(r.send.Button)
	look("request")
	h.requestRenewal()
	look("sent")
	h.tap(h.ui.messagesButton)
	look("outbox")
	h.openLink("nonsense")
	look("paste")
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	h.tap(cf.validate.Button)
	look("confirm")
	test.Type(cf.password.Entry, marie.Password)
	h.enter(cf.code.Entry, servicetest.Code)
	id := screenAs[*identifierScreen](h)
	look("identifier")
	h.tap(id.home)
	look("identifier-question")
	h.tap(h.overlayButton(h.overlayConfirmText()))
	h.tap(h.ui.helpButton)
	look("help")
	h.tap(h.ui.settingsButton)
	look("settings")
	h.ui.Home()
	h.tap(screenAs[*homeScreen](h).lostPW)
	pw := screenAs[*passwordScreen](h)
	h.tap(pw.send.Button)
	look("password")
	test.Type(pw.identifier.Entry, "AAAAAAAAAAAA")
	test.Type(pw.numic.Entry, marie.NUMIC)
	h.enter(pw.code.Entry, servicetest.Code)
	look("password-sent")
	h.ui.Home()
	home := screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, id.renewal.Identifier)
	h.enter(home.password.Entry, marie.Password)
	look("space")
	h.ui.Home()
	h.tap(h.ui.officeButton)
	lg := screenAs[*officeLoginScreen](h)
	look("office-login")
	test.Type(lg.name.Entry, "alice")
	h.submitAgent(lg, "alice")
	oh := screenAs[*officeHomeScreen](h)
	look("office-home")
	for name, open := range map[string]*ui.Button{"desk": oh.desk, "monitor": oh.outbox, "import": oh.roll, "campaign": oh.campaign, "audit": oh.auditB} {
		h.ui.office()
		h.tap(open)
		look(name)
	}
	h.ui.office()
	h.tap(oh.desk)
	d := screenAs[*deskScreen](h)
	h.enter(d.query.Entry, marie.NUMIC)
	look("desk-results")
	h.tap(d.found[0])
	look("voter-file")
	vf := screenAs[*voterFileScreen](h)
	h.tap(vf.changeB)
	cs := screenAs[*contactScreen](h)
	h.tap(cs.submitB.Button) // every field error
	look("contact-change")
	test.Type(cs.mobile.Entry, "+33700000001")
	cs.document.SetSelectedIndex(0)
	h.enter(cs.reason.Entry, "au guichet")
	look("voter-file-pending")
	h.ui.office()
	h.tap(oh.approvals)
	look("approvals")
	// bob, a plain agent, where only an admin approves: the pending
	// change, and in words why there is no "Approuver".
	h.ui.agent = nil
	h.ui.Home()
	h.tap(h.ui.officeButton)
	lg = screenAs[*officeLoginScreen](h)
	test.Type(lg.name.Entry, "bob")
	h.submitAgent(lg, "bob")
	h.tap(screenAs[*officeHomeScreen](h).approvals)
	look("pending-changes")
	h.tap(screenAs[*approvalsScreen](h).opens[0])
	look("voter-file-not-approver")
}
