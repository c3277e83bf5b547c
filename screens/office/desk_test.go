package office

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/resources"
	"consulvote/screens/screenstest"
)

// openFile logs the agent in, finds the voter by NUMIC and opens the file.
func (h *harness) openFile(agent, numic string) *voterFileScreen {
	h.T.Helper()
	home := h.agentLogin(agent)
	h.Tap(home.desk)
	d := screenAs[*deskScreen](h)
	h.Enter(d.query.Entry, numic)
	if len(d.found) != 1 {
		h.T.Fatalf("%d voters found for %s", len(d.found), numic)
	}
	h.Tap(d.found[0])
	return screenAs[*voterFileScreen](h)
}

// addDeskAgents adds carl, an agent, to the office's alice (admin) and bob
// (agent).
func addDeskAgents(t *testing.T, e *servicetest.Env) {
	t.Helper()
	if _, err := e.Service.Operator.AddAgent(context.Background(), "carl", portal.RoleAgent, screenstest.AgentPassword, false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
}

func TestContactChangeScreens(t *testing.T) {
	t.Run("local", func(t *testing.T) { h, e := newOfficeHarness(t); testContactChangeScreens(t, h, e) })
	t.Run("remote", func(t *testing.T) { h, e := newRemoteOfficeHarness(t); testContactChangeScreens(t, h, e) })
}

func testContactChangeScreens(t *testing.T, h *harness, e *servicetest.Env) {
	addDeskAgents(t, e)
	john := service.DemoRoll[1]
	f := h.openFile("bob", marie.NUMIC)
	if f.approveB != nil || f.changeB == nil {
		t.Fatal("no pending change, yet no button to propose one or one to approve")
	}
	h.Tap(f.changeB)
	c := screenAs[*contactScreen](h)
	h.See("DUPONT Marie Claire — NUMIC 00012345 — actuellement : courriel marie.dupont@example.org, mobile +33612345678")

	// Every field's error, in the agent's words.
	h.Tap(c.submitB.Button)
	h.See("Saisissez la nouvelle adresse électronique, ou le nouveau numéro de mobile.")
	h.See("Choisissez la pièce d'identité vue.")
	h.See("Saisissez le motif de l'action.")
	test.Type(c.mobile.Entry, "06 12 34 56 78")
	h.Tap(c.submitB.Button)
	h.See("Ce numéro n'est pas au format international : commencez par + et l'indicatif du pays, ex. +33612345678.")
	c.mobile.Entry.SetText("")
	test.Type(c.email.Entry, john.Email)
	c.document.SetSelectedIndex(0)
	h.Enter(c.reason.Entry, "appel de l'électrice, passeport présenté au guichet")
	h.See("Cette adresse électronique est déjà celle d'un autre électeur : vérifiez-la avec l'électeur.")
	if c.reason.Entry.Text == "" || c.email.Entry.Text != john.Email {
		t.Fatal("a refused form lost what was typed")
	}
	c.email.Entry.SetText("marie.nouvelle@example.org")
	h.Enter(c.email.Entry, "")

	// Back on the file: proposed, nothing changed, only withdrawable here.
	f = screenAs[*voterFileScreen](h)
	h.See("Modification proposée. Elle ne prendra effet qu'après l'approbation d'un autre agent, avant le 08/05/2026")
	h.See("Modification en attente : l'adresse électronique (de marie.dupont@example.org à marie.nouvelle@example.org) — proposée par bob")
	h.See("Courriel : marie.dupont@example.org — mobile : +33612345678")
	h.See("Agent bob a proposé de changer l'adresse électronique (de marie.dupont@example.org à marie.nouvelle@example.org), pièce vue : passeport. Motif : appel de l'électrice, passeport présenté au guichet.")
	if f.approveB != nil || f.withdraw == nil {
		t.Fatal("the proposer is offered to approve, or not to withdraw")
	}

	// carl, an agent, may not approve where an admin must: his session
	// says so, and the screens offer no button that could only be refused
	// — the reason in words instead, and rejecting stays his to do.
	f = h.openFile("carl", marie.NUMIC)
	if f.approveB != nil || f.rejectB == nil {
		t.Fatal("an agent who may not approve is offered to, or not offered to reject")
	}
	h.See("Seul un administrateur peut approuver cette modification (réglage du service). Vous pouvez la refuser, avec un motif.")
	h.ui.Back()
	h.ui.Back()
	home := screenAs[*officeHomeScreen](h)
	if home.approvals.Text != "Modifications en attente (1)" {
		t.Errorf("carl's home offers %q", home.approvals.Text)
	}
	h.Tap(home.approvals)
	a := screenAs[*approvalsScreen](h)
	h.See("Modifications en attente")
	h.See("Seul un administrateur peut approuver ces modifications (réglage du service). Ouvrez le dossier de l'électeur pour en refuser une, avec un motif.")
	if len(a.opens) != 1 || len(a.approve) != 0 {
		t.Errorf("carl's list: %d to open, %d to approve; want 1 and 0", len(a.opens), len(a.approve))
	}
	if _, err := e.Service.Office.ApproveContactChange(context.Background(), h.ui.token(), f.file.ContactChanges[0].ID); portal.ErrorCode(err) != portal.CodeForbidden {
		t.Errorf("the service let carl approve: %v", err)
	}

	// alice, an admin, from the list of changes to approve.
	home = h.agentLogin("alice")
	if home.approvals.Text != "Modifications à approuver (1)" {
		t.Errorf("approvals button reads %q", home.approvals.Text)
	}
	h.Tap(home.approvals)
	a = screenAs[*approvalsScreen](h)
	h.NotSee("Seul un administrateur peut approuver")
	h.See("DUPONT Marie Claire (NUMIC 00012345) — l'adresse électronique (de marie.dupont@example.org à marie.nouvelle@example.org) — proposée par bob")
	if h.Win.Canvas().Focused() != a.opens[0] {
		t.Errorf("focus on %T, want the first proposal's Open", h.Win.Canvas().Focused())
	}
	h.Tap(a.opens[0])
	f = screenAs[*voterFileScreen](h)
	h.Win.Canvas().Focus(f.approveB)
	screenstest.Key(f.approveB, fyne.KeyReturn)
	// Asked first, naming the voter and the change; Escape's answer is no.
	h.See("Changer, pour DUPONT Marie Claire, l'adresse électronique (de marie.dupont@example.org à marie.nouvelle@example.org).")
	h.Tap(h.OverlayButton("Ne pas approuver"))
	h.NotSee("Modification approuvée")
	if h.Win.Canvas().Focused() != f.approveB {
		t.Fatalf("after No, focus on %T, not back on Approve", h.Win.Canvas().Focused())
	}
	screenstest.Key(f.approveB, fyne.KeyReturn)
	h.Tap(h.OverlayButton("Approuver"))
	h.See("Modification approuvée : les coordonnées sont changées et l'électeur est prévenu à ses anciennes et nouvelles adresses.")
	// Approve went with the proposal: the focus is on what replaced it,
	// the result in view.
	if f.changeB == nil || h.Win.Canvas().Focused() != f.changeB {
		t.Fatalf("after Approve, focus on %T, want Propose a change", h.Win.Canvas().Focused())
	}
	screenstest.AssertInView(t, h.H, f.msg.Label)
	h.See("Courriel : marie.nouvelle@example.org — mobile : +33612345678")
	h.See("Agent alice a approuvé le changement de l'adresse électronique (de marie.dupont@example.org à marie.nouvelle@example.org) proposé par bob (pièce vue : passeport ; motif : appel de l'électrice, passeport présenté au guichet). Avis envoyés aux anciennes et nouvelles coordonnées.")
	h.See("Agent carl n'a pas pu approuver le changement proposé par bob : approbation réservée aux administrateurs.")
	h.See("courriel, avis de modification des coordonnées à marie.dupont@example.org : en attente")
	h.See("courriel, avis de modification des coordonnées à marie.nouvelle@example.org : en attente")
	h.NotSee("contact.change") // in words, never the raw codes
	if f.changeB == nil {
		t.Error("no button to propose the next change")
	}
	h.ui.Back()
	a = screenAs[*approvalsScreen](h)
	a.load()
	h.Wait()
	h.See("Aucune modification n'attend d'approbation.")
}

// TestContactApprovalByAnyAgentScreens: with `--contact-approval agent`,
// the session of a plain agent says it may approve, and the screens offer
// it — on another agent's proposal, never on one's own.
func TestContactApprovalByAnyAgentScreens(t *testing.T) {
	anyAgent := func(c *service.Config) { c.ApprovalRole = portal.RoleAgent }
	t.Run("local", func(t *testing.T) { h, e := newOfficeHarness(t, anyAgent); testApprovalByAnyAgent(t, h, e) })
	t.Run("remote", func(t *testing.T) { h, e := newRemoteOfficeHarness(t, anyAgent); testApprovalByAnyAgent(t, h, e) })
}

func testApprovalByAnyAgent(t *testing.T, h *harness, e *servicetest.Env) {
	addDeskAgents(t, e)
	f := h.openFile("bob", marie.NUMIC)
	h.Tap(f.changeB)
	c := screenAs[*contactScreen](h)
	test.Type(c.email.Entry, "marie.autre@example.org")
	c.document.SetSelectedIndex(1)
	h.Enter(c.reason.Entry, "au guichet, carte d'identité")
	f = screenAs[*voterFileScreen](h)
	if f.approveB != nil || f.withdraw == nil {
		t.Fatal("the proposer is offered to approve")
	}
	// bob's own list: his proposal, which he may not approve.
	home := h.agentLogin("bob")
	if home.approvals.Text != "Modifications à approuver (1)" {
		t.Errorf("bob's home offers %q", home.approvals.Text)
	}
	h.Tap(home.approvals)
	a := screenAs[*approvalsScreen](h)
	h.See("Votre proposition : un autre agent doit l'approuver.")
	h.NotSee("Seul un administrateur")
	if len(a.approve) != 0 {
		t.Error("bob may approve his own proposal from the list")
	}

	// carl, a plain agent, approves it from the file.
	f = h.openFile("carl", marie.NUMIC)
	if f.approveB == nil || f.rejectB == nil {
		t.Fatal("an agent who may approve is not offered to")
	}
	h.NotSee("Seul un administrateur")
	h.Tap(f.approveB)
	h.Tap(h.OverlayButton("Approuver"))
	h.See("Modification approuvée : les coordonnées sont changées et l'électeur est prévenu à ses anciennes et nouvelles adresses.")
	h.See("Courriel : marie.autre@example.org — mobile : +33612345678")
}

func TestDeskRenewalScreen(t *testing.T) {
	t.Run("local", func(t *testing.T) { h, e := newOfficeHarness(t); testDeskRenewalScreen(t, h, e) })
	t.Run("remote", func(t *testing.T) { h, e := newRemoteOfficeHarness(t); testDeskRenewalScreen(t, h, e) })
}

func testDeskRenewalScreen(t *testing.T, h *harness, e *servicetest.Env) {
	f := h.openFile("bob", marie.NUMIC)
	h.Tap(f.renewID)
	h.See("Saisissez le motif de l'action.")
	test.Type(f.reason.Entry, "appel de l'électrice, identité vérifiée")
	h.Tap(f.renewID)
	h.See("Lien envoyé par courriel à marie.dupont@example.org, valable jusqu'au 06/05/2026 à 18h25 (UTC+00:00).")
	h.See("Liens en cours : 1")
	h.See("Agent bob a lancé pour l'électeur un renouvellement de l'identifiant : lien envoyé par courriel à marie.dupont@example.org. Motif : appel de l'électrice, identité vérifiée")
	link := h.latestLink()
	h.NotSee(link[strings.LastIndex(link, "=")+1:])
	// Not both at once, in the desk's words.
	test.Type(f.reason.Entry, "l'électrice demande aussi son mot de passe")
	h.Tap(f.renewPW)
	h.See("Pas les deux à la fois : un lien de renouvellement de l'identifiant est en cours. L'électeur doit d'abord le terminer, ou annulez-le.")
	h.See("Agent bob n'a pas pu lancer un renouvellement du mot de passe : pas les deux à la fois (l'autre renouvellement est en cours ou récent).")

	// A password by SMS for Inès: the agent sees where it went, not what.
	f = h.openFile("bob", service.DemoRoll[2].NUMIC)
	test.Type(f.reason.Entry, "au guichet, carte consulaire")
	h.Tap(f.renewPW)
	h.See("Nouveau mot de passe envoyé par SMS au +212612345678. L'ancien ne fonctionne plus.")
	h.See("SMS, nouveau mot de passe par SMS à +212612345678 : en attente")
	var password string
	for _, m := range screenstest.Messages(t, h.svc.Portal) {
		if m.Channel == "sms" {
			password = screenstest.PasswordInSMS.FindString(m.Text)
			break
		}
	}
	if password == "" {
		t.Fatal("no SMS")
	}
	h.NotSee(password)
	if _, err := e.Service.Portal.Login(context.Background(), service.DemoRoll[2].Identifier, password); err != nil {
		t.Fatalf("the password from the SMS: %v", err)
	}
	// A locked voter: the desk's sentence, with the time.
	for range 5 {
		e.Service.Portal.Login(context.Background(), marie.Identifier, "wrong")
	}
	f = h.openFile("bob", marie.NUMIC)
	test.Type(f.reason.Entry, "appel")
	h.Tap(f.changeB)
	c := screenAs[*contactScreen](h)
	test.Type(c.mobile.Entry, "+33700000001")
	c.document.SetSelectedIndex(1)
	h.Enter(c.reason.Entry, "appel, carte d'identité")
	h.See("Le compte de cet électeur est bloqué jusqu'au 06/05/2026 à 17h40 (UTC+00:00) après des essais incorrects : débloquez-le d'abord, avec un motif, une fois son identité vérifiée.")
}

// TestDeskInEnglish: the desk's errors and history in English.
func TestDeskInEnglish(t *testing.T) {
	if err := resources.LoadTranslations("en"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resources.LoadTranslations("fr") })
	h, e := newOfficeHarness(t)
	f := h.openFile("bob", marie.NUMIC)
	h.Tap(f.changeB)
	c := screenAs[*contactScreen](h)
	test.Type(c.mobile.Entry, "0612345678")
	h.Enter(c.reason.Entry, "")
	h.See("This number is not in international format: start with + and the country code, e.g. +33612345678.")
	h.See("Choose the identity document seen.")
	c.mobile.Entry.SetText("+33 7 00 00 00 01")
	c.document.SetSelectedIndex(2)
	h.Enter(c.reason.Entry, "called, consular card checked")
	f = screenAs[*voterFileScreen](h)
	h.See("Agent bob proposed to change the mobile (from +33612345678 to +33700000001), document seen: consular card. Reason: called, consular card checked.")
	h.Tap(f.withdraw)
	h.See("Type the reason for the action.")
	test.Type(f.reason.Entry, "typo")
	h.Tap(f.withdraw)
	h.See("Proposal withdrawn.")
	h.See("Agent bob withdrew their proposed change of contact details. Reason: typo")
	h.See("the mobile (from +33612345678 to +33700000001): withdrawn (proposed by bob, decided by bob)")
	// Approval by the proposer, in English, from the API's answer.
	ch, err := e.Service.Office.ProposeContactChange(context.Background(), h.ui.token(), portal.ContactChangeRequest{
		VoterID: f.id, Email: "m@example.org", Document: portal.DocPassport, Reason: "r"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Service.Office.ApproveContactChange(context.Background(), h.ui.token(), ch.ID)
	if got := h.ui.deskText(err); got != "You proposed this change: another agent must approve it." {
		t.Errorf("self-approval says %q", got)
	}
	// carl may not approve (admins approve, by default): said in English.
	addDeskAgents(t, e)
	f = h.openFile("carl", marie.NUMIC)
	if f.approveB != nil {
		t.Error("carl is offered to approve")
	}
	h.See("Only an administrator may approve this change (a setting of the service). You may reject it, with a reason.")
	home := h.agentLogin("carl")
	if home.approvals.Text != "Pending changes (1)" {
		t.Errorf("carl's home offers %q", home.approvals.Text)
	}
	h.Tap(home.approvals)
	h.See("Only an administrator may approve these changes (a setting of the service). Open the voter's file to reject one, with a reason.")
	h.Tap(h.agentLogin("bob").approvals)
	h.See("Your proposal: another agent must approve it.")
	for _, code := range []portal.Code{portal.CodeSelfApproval, portal.CodeChangePending, portal.CodeChangeDecided,
		portal.CodeChangeExpired, portal.CodeContactStale, portal.CodeNoMobile, portal.CodeLocked,
		portal.CodeRenewalConflict, portal.CodeRateLimited, portal.CodeForbidden} {
		text := h.ui.deskText(&portal.Error{Code: code})
		if screenstest.RawKey.MatchString(text) || strings.Contains(text, "desk.err") || text == h.ui.errorText(&portal.Error{Code: portal.CodeInternal}) {
			t.Errorf("%s: no sentence of its own (%q)", code, text)
		}
	}
}

// TestHistoryInWords: every sentence and word of the history exists in
// both languages, and an action no sentence knows shows as stored.
func TestHistoryInWords(t *testing.T) {
	for _, language := range resources.Languages {
		b, err := resources.Translation(language)
		if err != nil {
			t.Fatal(err)
		}
		for k := range historyWords {
			if !strings.Contains(string(b), `"`+k+`":`) {
				t.Errorf("%s: no %s", language, k)
			}
		}
		for _, d := range portal.Documents {
			if !strings.Contains(string(b), `"document.`+string(d)+`":`) {
				t.Errorf("%s: no document.%s", language, d)
			}
		}
	}
	got := historyText(portal.HistoryEntry{At: servicetest.Start, Actor: "agent:zoe", Action: "something.new", Detail: "x"})
	if !strings.Contains(got, "Agent zoe — something.new x") {
		t.Errorf("unknown action shown as %q", got)
	}
	got = historyText(portal.HistoryEntry{At: servicetest.Start, Actor: "agent:zoe", Action: "desk.renewal.refused",
		Params: map[string]string{"kind": "password", "why": "agent_limit", "reason": "r"}})
	if !strings.Contains(got, "Agent zoe n'a pas pu lancer un renouvellement du mot de passe : limite de renouvellements de l'agent atteinte. Motif : r") {
		t.Errorf("refusal shown as %q", got)
	}
}

// TestDocumentsDocumented: docs/office.md's table of identity documents is
// the list in code, with its words in each language, in order.
func TestDocumentsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../docs/office.md")
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]map[string]string{}
	for _, language := range []string{"fr", "en"} {
		b, err := resources.Translation(language)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage // plural forms are objects
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		words[language] = map[string]string{}
		for _, d := range portal.Documents {
			var w string
			if err := json.Unmarshal(raw["document."+string(d)], &w); err != nil {
				t.Fatalf("%s: document.%s: %v", language, d, err)
			}
			words[language]["document."+string(d)] = w
		}
	}
	at := 0
	for _, d := range portal.Documents {
		row := fmt.Sprintf("| `%s` | %s | %s |", d, words["fr"]["document."+string(d)], words["en"]["document."+string(d)])
		i := strings.Index(string(readme), row)
		if i < at {
			t.Errorf("docs/office.md: no row %q after the previous document's", row)
			continue
		}
		at = i
	}
}

// TestRollImportScreenReportsDeskChange: the import screen lists what the
// roll would have undone of an approved change, and keeps the desk's.
func TestRollImportScreenReportsDeskChange(t *testing.T) {
	h, e := newOfficeHarness(t)
	ctx := context.Background()
	bob, _ := e.Service.Office.AgentLogin(ctx, "bob", screenstest.AgentPassword, "")
	found, _ := e.Service.Office.FindVoters(ctx, bob.Token, marie.NUMIC)
	c, err := e.Service.Office.ProposeContactChange(ctx, bob.Token, portal.ContactChangeRequest{VoterID: found[0].ID,
		Mobile: "+33700000001", Document: portal.DocPassport, Reason: "au guichet"})
	if err != nil {
		t.Fatal(err)
	}
	home := h.agentLogin("alice")
	if _, err := e.Service.Office.ApproveContactChange(ctx, h.ui.token(), c.ID); err != nil {
		t.Fatal(err)
	}
	roll := filepath.Join(t.TempDir(), "liste.csv")
	os.WriteFile(roll, []byte("NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n"+
		fmt.Sprintf("%s;%s;%s;%s;%s;%s\n", marie.NUMIC, marie.LastName, marie.FirstNames, marie.Email, marie.Mobile, marie.Circonscription)), 0o600)
	h.Tap(home.roll)
	s := screenAs[*importScreen](h)
	test.Type(s.file.Entry, roll)
	h.Tap(s.start)
	h.See("1 coordonnée(s) changée(s) au guichet conservée(s), différente(s) de la liste :")
	h.See("Ligne 2, NUMIC 00012345 : le mobile changé au guichet le 06/05/2026 à 17h25 (UTC+00:00) est conservé (« +33700000001 ») ; la liste porte « +33612345678 ».")
	if !s.save.Visible() {
		t.Error("no way to save the report")
	}
	f, _ := e.Service.Office.VoterFile(ctx, h.ui.token(), found[0].ID)
	if f.Mobile != "+33700000001" {
		t.Fatalf("the import undid the desk's mobile: %s", f.Mobile)
	}
}

// keyboard drives the window as a person at the keyboard does, counting
// the keys: Tab, Space, Enter and arrows one each, typed text one per
// character.
type keyboard struct {
	h          *harness
	nav, typed int
}

func (k *keyboard) tab() {
	k.h.Win.Canvas().FocusNext()
	k.nav++
}

// tabTo presses Tab until want has the focus.
func (k *keyboard) tabTo(want fyne.Focusable) {
	k.h.T.Helper()
	for range 40 {
		if k.h.Win.Canvas().Focused() == want {
			return
		}
		k.tab()
	}
	k.h.T.Fatalf("Tab never reached %T", want)
}

func (k *keyboard) space() {
	screenstest.PressSpace(k.h.Win.Canvas())
	k.nav++
	k.h.Wait()
}

func (k *keyboard) key(name fyne.KeyName) {
	k.h.Win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: name})
	k.nav++
	k.h.Wait()
}

func (k *keyboard) text(s string) {
	test.Type(k.h.Win.Canvas().Focused(), s)
	k.typed += len([]rune(s))
}

// TestDeskByKeyboard walks the desk's two errands with the keyboard alone
// and logs what they cost, for the closing note: the screens and keys an
// agent needs to change an address (and a second agent to approve it),
// then to start a renewal. The counts are checked against the walk's
// known shape, so that a change of Tab order shows here.
func TestDeskByKeyboard(t *testing.T) {
	h, e := newOfficeHarness(t)
	addDeskAgents(t, e)
	newEmail := "marie.nouvelle@example.org"
	reason := "passeport vu au guichet"

	// bob changes the address: office home à desk à file à change form.
	home := h.agentLogin("bob")
	k := &keyboard{h: h}
	screens := 1 // the office home, where the agent is
	c := h.Win.Canvas()
	c.Focus(home.desk)
	k.space()
	screens++
	k.text(marie.NUMIC)
	k.key(fyne.KeyReturn)
	k.space() // the first result has the focus
	screens++
	f := screenAs[*voterFileScreen](h)
	k.tabTo(f.changeB)
	k.space()
	screens++
	cs := screenAs[*contactScreen](h)
	if c.Focused() != cs.email.Entry {
		t.Fatalf("the change form opens on %T", c.Focused())
	}
	k.text(newEmail)
	k.tabTo(cs.document)
	k.key(fyne.KeyRight) // the first document: passport
	k.tab()
	if c.Focused() != cs.reason.Entry {
		t.Fatalf("Tab from the document went to %T", c.Focused())
	}
	k.text(reason)
	k.key(fyne.KeyReturn)
	screenAs[*voterFileScreen](h)
	h.See("Modification proposée.")
	proposeScreens, proposeNav, proposeTyped := screens, k.nav, k.typed

	// alice approves: office home → changes to approve → approve.
	home = h.agentLogin("alice")
	k = &keyboard{h: h}
	screens = 1
	c.Focus(home.desk)
	k.tabTo(home.approvals)
	k.space()
	screens++
	a := screenAs[*approvalsScreen](h)
	k.tabTo(a.approve[0])
	k.space()
	h.See("Approuver cette modification ?")
	k.tabTo(h.OverlayButton("Approuver"))
	k.space()
	h.See("Modification approuvée pour DUPONT Marie Claire.")
	approveScreens, approveNav := screens, k.nav

	// bob starts an identifier renewal from the file he has open.
	f = h.openFile("bob", marie.NUMIC)
	k = &keyboard{h: h}
	if c.Focused() != f.reason.Entry {
		t.Fatalf("the file opens on %T", c.Focused())
	}
	k.text(reason)
	k.tabTo(f.renewID)
	k.space()
	h.See("Lien envoyé par courriel à " + newEmail)
	renewNav, renewTyped := k.nav, k.typed

	t.Logf("propose a new e-mail: %d screens, %d navigation keys + %d characters typed (NUMIC %d, e-mail %d, reason %d)",
		proposeScreens, proposeNav, proposeTyped, len(marie.NUMIC), len(newEmail), len(reason))
	t.Logf("approve it (second agent): %d screens, %d navigation keys, nothing typed", approveScreens, approveNav)
	t.Logf("start a renewal on the open file: 1 screen, %d navigation keys + %d characters typed (reason)", renewNav, renewTyped)
	// The walk's shape: Space, Enter, Space, Tabs to "Modifier", Space,
	// Tab Tab, Right, Tab, Enter; approving is asked once (Tab to "Approuver", Space).
	if proposeScreens != 4 || proposeNav > 12 || approveNav > 6 || renewNav > 4 {
		t.Errorf("the desk costs more keys than it did: propose %d, approve %d, renew %d", proposeNav, approveNav, renewNav)
	}
}
