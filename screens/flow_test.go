package screens

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/service/servicetest"
)

// TestIdentifierRenewalFlow walks the seeds' flow as a voter would, with
// the keyboard where a voter would use it.
func TestIdentifierRenewalFlow(t *testing.T) { bothModes(t, testIdentifierRenewalFlow) }

func testIdentifierRenewalFlow(t *testing.T, h *harness) {

	// E1
	home := screenAs[*homeScreen](h)
	if h.win.Title() != "Accueil – consulvote" {
		t.Errorf("title %q", h.win.Title())
	}
	h.see("Election des conseillers et délégués consulaires")
	h.see("Mai 2026")
	h.see("Bienvenue sur le portail de vote par Internet de l'élection des conseillers et délégués consulaires")
	h.tap(home.lostID)

	// E2: the focus starts on the NUMIC; Tab follows the reading order.
	r := screenAs[*requestScreen](h)
	if !strings.HasPrefix(h.win.Title(), "Renouvellement de votre identifiant") {
		t.Errorf("title %q", h.win.Title())
	}
	h.see("Le numéro d'identification consulaire (NUMIC) vous a été rappelé dans le courriel contenant votre identifiant de connexion au portail de vote.")
	h.see("Adresse électronique que vous avez renseignée auprès de votre consulat ou sur le registre en ligne.")
	h.see("Pour des raisons de sécurité, il n'est pas possible de renouveler à la fois son identifiant et son mot de passe.")
	if r.code.image.Resource == nil || r.code.id == "" {
		t.Fatal("no security code picture")
	}
	c := h.win.Canvas()
	if c.Focused() != r.numic.Entry {
		t.Fatalf("focus on %T, want the NUMIC", c.Focused())
	}
	test.Type(r.numic.Entry, "000 123 45")
	c.FocusNext()
	if c.Focused() != r.email.Entry {
		t.Fatalf("Tab from the NUMIC went to %T, want the e-mail", c.Focused())
	}
	test.Type(c.Focused(), " Marie.Dupont@Example.org")
	c.FocusNext() // "Nouveau code"
	c.FocusNext() // "Écouter le code"
	c.FocusNext()
	if c.Focused() != r.code.Entry {
		t.Fatalf("Tab order reached %T, want the code entry", c.Focused())
	}
	test.Type(c.Focused(), servicetest.Code)
	key(r.code.Entry, fyne.KeyReturn) // Enter submits
	h.wait()

	// E3
	screenAs[*sentScreen](h)
	h.see("Envoyé !")
	h.see("Si le NUMIC et l'adresse électronique saisis correspondent à votre inscription, un courriel vient de vous être envoyé à cette adresse.")
	h.see("Il contient un lien à usage unique qui vous permettra d'obtenir votre nouvel identifiant, ou vous explique pourquoi la demande n'a pas pu aboutir et quand la refaire.")

	// The e-mail, in the demo's "Messages envoyés", with its link.
	h.tap(h.ui.messagesButton)
	ob := screenAs[*outboxScreen](h)
	h.see("Identifiant oublié")
	h.see("Suite à votre demande de renouvellement de votre identifiant, veuillez cliquer sur ce lien")
	if len(ob.links) != 1 {
		t.Fatalf("%d links in the outbox, want 1", len(ob.links))
	}
	h.tap(ob.links[0])

	// E5
	cf := screenAs[*confirmScreen](h)
	h.see("Pour renouveler votre identifiant, vous devez renseigner votre mot de passe. Veuillez utiliser le mot de passe qui vous a été envoyé par SMS.")
	h.see("Ce lien est valable jusqu'au")
	if c.Focused() != cf.password.Entry {
		t.Fatalf("focus on %T, want the password", c.Focused())
	}
	test.Type(cf.password.Entry, marie.Password)
	test.Type(cf.code.Entry, servicetest.Code)
	h.tap(cf.validate.Button)

	// E6
	id := screenAs[*identifierScreen](h)
	h.see("Votre nouvel identifiant est :")
	h.see("Copiez-le et conservez-le en lieu sûr, il ne vous sera pas renvoyé.")
	newID := id.renewal.Identifier
	if len(newID) != 12 || newID == marie.Identifier {
		t.Fatalf("identifier %q", newID)
	}
	h.see(group(newID))
	if !id.identifier.TextStyle.Monospace {
		t.Error("the identifier is not in the monospace face")
	}
	h.tap(id.copyBtn)
	if got := h.app.Clipboard().Content(); got != newID {
		t.Fatalf("clipboard holds %q", got)
	}
	h.see("Identifiant copié.")
	h.tap(id.home)

	// Back to E1: the old identifier fails, the new one logs in.
	home = screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, marie.Identifier)
	h.enter(home.password.Entry, marie.Password)
	h.see("Identifiant ou mot de passe incorrect.")
	if home.identifier.Entry.Text != marie.Identifier || home.password.Entry.Text != "" {
		t.Errorf("after a failed login: identifier %q kept, password %q cleared?", home.identifier.Entry.Text, home.password.Entry.Text)
	}
	home.identifier.Entry.SetText("")
	test.Type(home.identifier.Entry, newID)
	h.enter(home.password.Entry, marie.Password)
	sp := screenAs[*spaceScreen](h)
	h.see("Bonjour Marie Claire DUPONT")
	h.see("NUMIC : ••••2345")
	h.see("C'est votre première connexion.")
	h.tap(sp.logout)
	home = screenAs[*homeScreen](h)
	// The next login shows when the last one was.
	test.Type(home.identifier.Entry, newID)
	h.enter(home.password.Entry, marie.Password)
	screenAs[*spaceScreen](h)
	h.see("Dernière connexion : ")
}

func TestWrongSecurityCode(t *testing.T) { bothModes(t, testWrongSecurityCode) }

func testWrongSecurityCode(t *testing.T, h *harness) {
	h.tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	firstCode := r.code.id
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	h.enter(r.code.Entry, "1234")
	screenAs[*requestScreen](h)
	h.see("Le code de sécurité est incorrect. Un nouveau code est affiché : saisissez-le.")
	if r.code.id == firstCode || r.code.id == "" || r.code.Entry.Text != "" {
		t.Errorf("no new code after a wrong one (id %q, typed %q)", r.code.id, r.code.Entry.Text)
	}
	if r.numic.Entry.Text != marie.NUMIC || r.email.Entry.Text != marie.Email {
		t.Error("what was typed was lost")
	}
	if h.win.Canvas().Focused() != r.code.Entry {
		t.Error("focus not back on the code")
	}
	// "Nouveau code" draws another.
	before := r.code.id
	h.tap(r.code.refresh)
	if r.code.id == before {
		t.Error("Nouveau code did not change the code")
	}
	h.enter(r.code.Entry, servicetest.Code)
	screenAs[*sentScreen](h)
}

func TestRequestFieldErrors(t *testing.T) { bothModes(t, testRequestFieldErrors) }

func testRequestFieldErrors(t *testing.T, h *harness) {
	h.tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	h.tap(r.send.Button)
	h.see("Saisissez votre NUMIC.")
	h.see("Saisissez votre adresse électronique.")
	h.see("Saisissez les 4 chiffres du code de sécurité.")
	test.Type(r.numic.Entry, "12AB")
	test.Type(r.email.Entry, "marie@")
	h.enter(r.code.Entry, "77")
	h.see("Le NUMIC ne contient que des chiffres (de 6 à 12).")
	h.see("Cette adresse électronique n'est pas valide")
	h.see("Le code de sécurité est composé de 4 chiffres.")
	if r.numic.Entry.Text != "12AB" || r.email.Entry.Text != "marie@" {
		t.Error("what was typed was lost")
	}
	screenAs[*requestScreen](h)
	// Escape goes back, from a field.
	key(r.numic.Entry, fyne.KeyEscape)
	screenAs[*homeScreen](h)
}

func TestWrongPasswordThenLock(t *testing.T) { bothModes(t, testWrongPasswordThenLock) }

func testWrongPasswordThenLock(t *testing.T, h *harness) {
	h.requestRenewal()
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	for i := range 4 {
		test.Type(cf.password.Entry, "mauvais")
		h.enter(cf.code.Entry, servicetest.Code)
		left := map[int]string{4: "4 essais", 3: "3 essais", 2: "2 essais", 1: "1 essai ;"}[4-i]
		h.see("Mot de passe ou code incorrect. Il vous reste " + left)
		if cf.password.Entry.Text != "" {
			t.Fatalf("attempt %d: the wrong password stays in the field", i+1)
		}
		if h.win.Canvas().Focused() != cf.password.Entry {
			t.Fatalf("attempt %d: focus on %T, want the password", i+1, h.win.Canvas().Focused())
		}
	}
	test.Type(cf.password.Entry, "mauvais")
	h.enter(cf.code.Entry, servicetest.Code)
	h.see("Trop d'essais incorrects : par sécurité, votre compte est bloqué jusqu'au")
	h.see("Contactez la cellule d'assistance : assistance@vote.example")
	if !cf.again.Visible() || !cf.validate.Button.Disabled() {
		t.Fatal("no way forward after the lock")
	}
	if h.win.Canvas().Focused() != cf.again {
		t.Fatalf("after the lock, focus on %T, want the way forward", h.win.Canvas().Focused())
	}
	// Nothing can be submitted: the fields are read-only, the message in view.
	if !cf.password.Entry.Disabled() || !cf.code.Entry.Disabled() {
		t.Fatal("the dead form's fields stay editable")
	}
	assertInView(t, h, cf.msg.Label)
	assertInView(t, h, cf.again)
	h.tap(cf.again)
	screenAs[*requestScreen](h)
}

// TestLoginTriesLeft: on the home page, wrong passwords say how many
// tries are left, the same for an identifier nobody has; the lock says
// until when and how to reach the assistance cell.
func TestLoginTriesLeft(t *testing.T) { bothModes(t, testLoginTriesLeft) }

func testLoginTriesLeft(t *testing.T, h *harness) {
	for _, identifier := range []string{marie.Identifier, "AAAAAAAAAAAA"} {
		h.ui.Home()
		home := screenAs[*homeScreen](h)
		for i, left := range []string{"4 essais", "3 essais", "2 essais", "1 essai ;"} {
			home.identifier.Entry.SetText(identifier)
			h.enter(home.password.Entry, "mauvais")
			h.see("Identifiant ou mot de passe incorrect. Il vous reste " + left)
			if home.password.Entry.Text != "" || h.win.Canvas().Focused() != home.password.Entry {
				t.Fatalf("%s, attempt %d: the password is not cleared and focused", identifier, i+1)
			}
		}
		h.enter(home.password.Entry, "mauvais")
		h.see("Trop d'essais incorrects : par sécurité, ce compte est bloqué jusqu'au")
		h.see("Besoin d'aide ? Contactez la cellule d'assistance : assistance@vote.example.")
	}
}

func TestExpiredLink(t *testing.T) { bothModes(t, testExpiredLink) }

func testExpiredLink(t *testing.T, h *harness) {
	h.requestRenewal()
	link := h.latestLink()
	h.clock.Advance(time.Hour)
	h.openLink(link)
	p := screenAs[*pasteScreen](h)
	h.see("Ce lien a expiré. Demandez un nouvel identifiant pour recevoir un nouveau lien.")
	h.tap(p.again)
	screenAs[*requestScreen](h)
}

func TestUsedLink(t *testing.T) { bothModes(t, testUsedLink) }

func testUsedLink(t *testing.T, h *harness) {
	h.requestRenewal()
	link := h.latestLink()
	h.openLink(link)
	cf := screenAs[*confirmScreen](h)
	test.Type(cf.password.Entry, marie.Password)
	h.enter(cf.code.Entry, servicetest.Code)
	id := screenAs[*identifierScreen](h)
	h.tap(id.copyBtn)
	h.openLink(link)
	screenAs[*pasteScreen](h)
	h.see("Lien déjà utilisé.")
}

func TestLinkUsedWhileOnE5(t *testing.T) {
	h := newHarness(t)
	h.requestRenewal()
	link := h.latestLink()
	h.openLink(link)
	cf := screenAs[*confirmScreen](h)
	// Someone else (another window) confirms the link first.
	c, _ := h.svc.Portal.NewSecurityCode(context.Background())
	if _, err := h.svc.Portal.ConfirmIdentifierRenewal(context.Background(), portalConfirm(link, c.ID)); err != nil {
		t.Fatal(err)
	}
	test.Type(cf.password.Entry, marie.Password)
	h.enter(cf.code.Entry, servicetest.Code)
	h.see("Lien déjà utilisé.")
	if !cf.again.Visible() {
		t.Error("no way to request a new identifier")
	}
}

func TestInvalidLinkPasted(t *testing.T) { bothModes(t, testInvalidLinkPasted) }

func testInvalidLinkPasted(t *testing.T, h *harness) {
	for _, text := range []string{"bonjour", "https://vote.example/renouvellement?jeton=abc", "https://vote.example/autre"} {
		h.openLink(text)
		p := screenAs[*pasteScreen](h)
		h.see("Ce texte n'est pas un lien de renouvellement. Copiez le lien complet du courriel.")
		if p.link.Entry.Text != text {
			t.Errorf("pasted text %q not kept", text)
		}
	}
	h.openLink("")
	h.see("Collez le lien reçu par courriel.")
	h.openLink("https://vote.example/renouvellement?jeton=" + strings.Repeat("A", 43))
	h.see("Ce lien n'est pas reconnu.")
}

func TestReplacedLink(t *testing.T) { bothModes(t, testReplacedLink) }

func testReplacedLink(t *testing.T, h *harness) {
	h.requestRenewal()
	first := h.latestLink()
	h.requestRenewal()
	h.openLink(first)
	h.see("Ce lien a été remplacé par un lien plus récent. Utilisez le dernier courriel reçu.")
}

func TestLeavingE6WithoutKeepingAsks(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	h.tap(id.home)
	// A dialog asks; "Rester" keeps the identifier on screen.
	h.see("Avez-vous conservé votre identifiant ?")
	h.tap(h.overlayButton("Rester"))
	screenAs[*identifierScreen](h)
	h.see(group(id.renewal.Identifier))
	h.tap(id.home)
	h.tap(h.overlayButton("Quitter cet écran"))
	screenAs[*homeScreen](h)
}

func TestKeychainSaveAndFill(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	h.tap(id.save)
	h.see("Identifiant enregistré dans le trousseau du système.")
	if got, _ := h.keys.Load(marie.NUMIC); got != id.renewal.Identifier {
		t.Fatalf("keychain holds %q", got)
	}
	h.tap(id.home) // saved: no question asked
	home := screenAs[*homeScreen](h)
	if len(home.fill) != 1 {
		t.Fatalf("%d keychain offers on E1, want 1", len(home.fill))
	}
	h.see("Utiliser l'identifiant enregistré dans le trousseau (NUMIC ••••2345)")
	h.tap(home.fill[0])
	if home.identifier.Entry.Text != id.renewal.Identifier {
		t.Fatalf("identifier filled with %q", home.identifier.Entry.Text)
	}
	h.enter(home.password.Entry, marie.Password)
	screenAs[*spaceScreen](h)
}

func TestNoKeychain(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Keychain = nil })
	id := h.renewToE6()
	h.tap(id.save)
	h.see("Aucun trousseau du système n'est disponible sur cet ordinateur.")
}

func TestHelpFromEveryScreen(t *testing.T) {
	h := newHarness(t)
	for _, open := range []func(){
		func() {},
		func() { h.tap(screenAs[*homeScreen](h).lostID) },
		func() { h.tap(screenAs[*homeScreen](h).haveMail) },
		func() { h.requestRenewal() },
	} {
		h.ui.Home()
		open()
		before := h.ui.Top().Screen
		h.tap(h.ui.helpButton)
		screenAs[*helpScreen](h)
		h.see("Que faire si je n'ai pas reçu ou si j'ai perdu mon identifiant ?")
		h.see("Contactez la cellule d'assistance : assistance@vote.example")
		h.tap(h.ui.BackButton)
		if h.ui.Top().Screen != before {
			t.Fatalf("back from help went to %T, not %T", h.ui.Top().Screen, before)
		}
	}
}

func TestEscapeOnCanvasGoesBack(t *testing.T) {
	h := newHarness(t)
	h.tap(screenAs[*homeScreen](h).lostID)
	h.win.Canvas().Unfocus()
	h.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	screenAs[*homeScreen](h)
}

func TestNoDemoNoOutbox(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Outbox = nil })
	if h.ui.messagesButton != nil {
		t.Fatal("the outbox viewer is offered outside the demonstration")
	}
	h.notSee("Démonstration")
}

func TestSettingsBackend(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Backend = "Base locale : /tmp/x.db" })
	h.tap(h.ui.settingsButton)
	s := screenAs[*settingsScreen](h)
	h.see("Actuellement : Base locale : /tmp/x.db")
	for bad, why := range map[string]string{
		"http://vote.example":          "Cette adresse doit commencer par https:// : http:// n'est accepté que pour un serveur sur cet ordinateur",
		"http://127.0.0.1.nip.io":      "http:// n'est accepté que pour un serveur sur cet ordinateur",
		"vote.example":                 "Cette adresse n'est pas valide : saisissez l'adresse complète du serveur",
		"https://":                     "saisissez l'adresse complète du serveur",
		"ftp://vote.example":           "Cette adresse doit commencer par https://.",
		"https://vote.example/?x=1":    "ni nom d'utilisateur, ni « ? », ni « # »",
		"https://user:pw@vote.example": "ni nom d'utilisateur, ni « ? », ni « # »",
	} {
		s.backend.Entry.SetText(bad)
		h.tap(s.save)
		h.see(why)
		h.see("1 champ à corriger : Adresse du serveur.")
		if h.win.Canvas().Focused() != s.backend.Entry {
			t.Errorf("%q: the focus is not on the address", bad)
		}
		if got := h.app.Preferences().String(BackendPreference); got != "" {
			t.Fatalf("%q saved as %q", bad, got)
		}
	}
	s.backend.Entry.SetText(" https://vote.example ")
	h.tap(s.save)
	h.see("Enregistré. Ce réglage s'appliquera au prochain démarrage de l'application.")
	h.notSee("champ à corriger")
	if got := h.app.Preferences().String(BackendPreference); got != "https://vote.example" {
		t.Fatalf("saved %q", got)
	}
	// What --backend accepts, the screen accepts: the same URL policy.
	s.backend.Entry.SetText("http://127.0.0.1:8443")
	h.tap(s.save)
	if got := h.app.Preferences().String(BackendPreference); got != "http://127.0.0.1:8443" {
		t.Fatalf("a backend on this machine saved as %q", got)
	}
	s.backend.Entry.SetText("")
	h.tap(s.save)
	if got := h.app.Preferences().String(BackendPreference); got != "" {
		t.Fatalf("clearing saved %q", got)
	}
}

// TestE6Question: the window's close button asks too; Escape and the
// default answer keep the identifier; Escape never opens a second copy.
func TestE6Question(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	closed := false
	h.ui.win = &closeSpy{Window: h.win, closed: &closed}
	h.ui.closeWindow()
	h.see("Avez-vous conservé votre identifiant ?")
	stay := h.overlayButton("Rester")
	if h.win.Canvas().Focused() != stay || stay.Importance != widget.HighImportance {
		t.Fatal("the safe answer is not the default")
	}
	key(stay, fyne.KeyEscape) // Escape = stay
	if len(h.win.Canvas().Overlays().List()) != 0 || closed {
		t.Fatal("Escape did not just close the question")
	}
	screenAs[*identifierScreen](h)
	h.win.Canvas().Unfocus()
	h.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // Escape on the page: the question
	h.see("Avez-vous conservé votre identifiant ?")
	h.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // and again: it closes, no second copy
	if n := len(h.win.Canvas().Overlays().List()); n != 0 {
		t.Fatalf("%d dialogs after Escape on the question", n)
	}
	screenAs[*identifierScreen](h)
	h.see(group(id.renewal.Identifier))
	h.ui.closeWindow()
	key(h.overlayButton("Rester"), fyne.KeyReturn) // Enter on the default
	if closed {
		t.Fatal("Enter on the default answer closed the window")
	}
	h.ui.closeWindow()
	h.tap(h.overlayButton("Quitter cet écran"))
	if !closed {
		t.Fatal("leaving did not close the window")
	}
}

// closeSpy is a window whose Close is only recorded (the test driver's
// window cannot be closed twice, and the test's cleanup closes it).
type closeSpy struct {
	fyne.Window
	closed *bool
}

func (w *closeSpy) Close() { *w.closed = true }

// TestLanguageSwitchOnE6Asks: switching the language rebuilds the
// screens, so on E6 it asks first, and staying keeps the identifier.
func TestLanguageSwitchOnE6Asks(t *testing.T) {
	switched := ""
	h := newHarness(t, func(o *Options) { o.OnLanguage = func(l string) { switched = l } })
	h.renewToE6()
	h.tap(h.ui.languageButton)
	h.see("Avez-vous conservé votre identifiant ?")
	h.tap(h.overlayButton("Rester"))
	if switched != "" {
		t.Fatal("the language switched without asking")
	}
	screenAs[*identifierScreen](h)
	h.tap(h.ui.languageButton)
	h.tap(h.overlayButton("Quitter cet écran"))
	if switched != "en" {
		t.Fatalf("switched to %q", switched)
	}
}
