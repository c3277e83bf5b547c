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
	"consulvote/screens/screenstest"
)

// TestIdentifierRenewalFlow walks the seeds' flow as a voter would, with
// the keyboard where a voter would use it.
func TestIdentifierRenewalFlow(t *testing.T) { bothModes(t, testIdentifierRenewalFlow) }

func testIdentifierRenewalFlow(t *testing.T, h *harness) {

	// E1
	home := screenAs[*homeScreen](h)
	if h.Win.Title() != "Accueil – consulvote" {
		t.Errorf("title %q", h.Win.Title())
	}
	h.See("Election des conseillers et délégués consulaires")
	h.See("Mai 2026")
	h.See("Bienvenue sur le portail de vote par Internet de l'élection des conseillers et délégués consulaires")
	h.Tap(home.lostID)

	// E2: the focus starts on the NUMIC; Tab follows the reading order.
	r := screenAs[*requestScreen](h)
	if !strings.HasPrefix(h.Win.Title(), "Renouvellement de votre identifiant") {
		t.Errorf("title %q", h.Win.Title())
	}
	h.See("Le numéro d'identification consulaire (NUMIC) vous a été rappelé dans le courriel contenant votre identifiant de connexion au portail de vote.")
	h.See("Adresse électronique que vous avez renseignée auprès de votre consulat ou sur le registre en ligne.")
	h.See("Pour des raisons de sécurité, il n'est pas possible de renouveler à la fois son identifiant et son mot de passe.")
	if r.code.image.Resource == nil || r.code.id == "" {
		t.Fatal("no security code picture")
	}
	c := h.Win.Canvas()
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
	screenstest.Key(r.code.Entry, fyne.KeyReturn) // Enter submits
	h.Wait()

	// E3
	screenAs[*sentScreen](h)
	h.See("Envoyé !")
	h.See("Si le NUMIC et l'adresse électronique saisis correspondent à votre inscription, un courriel vient de vous être envoyé à cette adresse.")
	h.See("Il contient un lien à usage unique qui vous permettra d'obtenir votre nouvel identifiant, ou vous explique pourquoi la demande n'a pas pu aboutir et quand la refaire.")

	// The e-mail, in the demo's "Messages envoyés", with its link.
	h.Tap(h.ui.messagesButton)
	ob := screenAs[*outboxScreen](h)
	h.See("Identifiant oublié")
	h.See("Suite à votre demande de renouvellement de votre identifiant, veuillez cliquer sur ce lien")
	if len(ob.links) != 1 {
		t.Fatalf("%d links in the outbox, want 1", len(ob.links))
	}
	h.Tap(ob.links[0])

	// E5
	cf := screenAs[*confirmScreen](h)
	h.See("Pour renouveler votre identifiant, vous devez renseigner votre mot de passe. Veuillez utiliser le mot de passe qui vous a été envoyé par SMS.")
	h.See("Ce lien est valable jusqu'au")
	if c.Focused() != cf.password.Entry {
		t.Fatalf("focus on %T, want the password", c.Focused())
	}
	test.Type(cf.password.Entry, marie.Password)
	test.Type(cf.code.Entry, servicetest.Code)
	h.Tap(cf.validate.Button)

	// E6
	id := screenAs[*identifierScreen](h)
	h.See("Votre nouvel identifiant est :")
	h.See("Copiez-le et conservez-le en lieu sûr, il ne vous sera pas renvoyé.")
	newID := id.renewal.Identifier
	if len(newID) != 12 || newID == marie.Identifier {
		t.Fatalf("identifier %q", newID)
	}
	h.See(group(newID))
	if !id.identifier.TextStyle.Monospace {
		t.Error("the identifier is not in the monospace face")
	}
	h.Tap(id.copyBtn)
	if got := h.App.Clipboard().Content(); got != newID {
		t.Fatalf("clipboard holds %q", got)
	}
	h.See("Identifiant copié.")
	h.Tap(id.home)

	// Back to E1: the old identifier fails, the new one logs in.
	home = screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, marie.Identifier)
	h.Enter(home.password.Entry, marie.Password)
	h.See("Identifiant ou mot de passe incorrect.")
	if home.identifier.Entry.Text != marie.Identifier || home.password.Entry.Text != "" {
		t.Errorf("after a failed login: identifier %q kept, password %q cleared?", home.identifier.Entry.Text, home.password.Entry.Text)
	}
	home.identifier.Entry.SetText("")
	test.Type(home.identifier.Entry, newID)
	h.Enter(home.password.Entry, marie.Password)
	sp := screenAs[*spaceScreen](h)
	h.See("Bonjour Marie Claire DUPONT")
	h.See("NUMIC : ••••2345")
	h.See("C'est votre première connexion.")
	h.Tap(sp.logout)
	home = screenAs[*homeScreen](h)
	// The next login shows when the last one was.
	test.Type(home.identifier.Entry, newID)
	h.Enter(home.password.Entry, marie.Password)
	screenAs[*spaceScreen](h)
	h.See("Dernière connexion : ")
}

func TestWrongSecurityCode(t *testing.T) { bothModes(t, testWrongSecurityCode) }

func testWrongSecurityCode(t *testing.T, h *harness) {
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	firstCode := r.code.id
	test.Type(r.numic.Entry, marie.NUMIC)
	test.Type(r.email.Entry, marie.Email)
	h.Enter(r.code.Entry, "1234")
	screenAs[*requestScreen](h)
	h.See("Le code de sécurité est incorrect. Un nouveau code est affiché : saisissez-le.")
	if r.code.id == firstCode || r.code.id == "" || r.code.Entry.Text != "" {
		t.Errorf("no new code after a wrong one (id %q, typed %q)", r.code.id, r.code.Entry.Text)
	}
	if r.numic.Entry.Text != marie.NUMIC || r.email.Entry.Text != marie.Email {
		t.Error("what was typed was lost")
	}
	if h.Win.Canvas().Focused() != r.code.Entry {
		t.Error("focus not back on the code")
	}
	// "Nouveau code" draws another.
	before := r.code.id
	h.Tap(r.code.refresh)
	if r.code.id == before {
		t.Error("Nouveau code did not change the code")
	}
	h.Enter(r.code.Entry, servicetest.Code)
	screenAs[*sentScreen](h)
}

func TestRequestFieldErrors(t *testing.T) { bothModes(t, testRequestFieldErrors) }

func testRequestFieldErrors(t *testing.T, h *harness) {
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	h.Tap(r.send.Button)
	h.See("Saisissez votre NUMIC.")
	h.See("Saisissez votre adresse électronique.")
	h.See("Saisissez les 4 chiffres du code de sécurité.")
	test.Type(r.numic.Entry, "12AB")
	test.Type(r.email.Entry, "marie@")
	h.Enter(r.code.Entry, "77")
	h.See("Le NUMIC ne contient que des chiffres (de 6 à 12).")
	h.See("Cette adresse électronique n'est pas valide")
	h.See("Le code de sécurité est composé de 4 chiffres.")
	if r.numic.Entry.Text != "12AB" || r.email.Entry.Text != "marie@" {
		t.Error("what was typed was lost")
	}
	screenAs[*requestScreen](h)
	// Escape goes back, from a field.
	screenstest.Key(r.numic.Entry, fyne.KeyEscape)
	screenAs[*homeScreen](h)
}

func TestWrongPasswordThenLock(t *testing.T) { bothModes(t, testWrongPasswordThenLock) }

func testWrongPasswordThenLock(t *testing.T, h *harness) {
	h.requestRenewal()
	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	for i := range 4 {
		test.Type(cf.password.Entry, "mauvais")
		h.Enter(cf.code.Entry, servicetest.Code)
		left := map[int]string{4: "4 essais", 3: "3 essais", 2: "2 essais", 1: "1 essai ;"}[4-i]
		h.See("Mot de passe ou code incorrect. Il vous reste " + left)
		if cf.password.Entry.Text != "" {
			t.Fatalf("attempt %d: the wrong password stays in the field", i+1)
		}
		if h.Win.Canvas().Focused() != cf.password.Entry {
			t.Fatalf("attempt %d: focus on %T, want the password", i+1, h.Win.Canvas().Focused())
		}
	}
	test.Type(cf.password.Entry, "mauvais")
	h.Enter(cf.code.Entry, servicetest.Code)
	h.See("Trop d'essais incorrects : par sécurité, votre compte est bloqué jusqu'au")
	h.See("Contactez la cellule d'assistance : assistance@vote.example")
	if !cf.again.Visible() || !cf.validate.Button.Disabled() {
		t.Fatal("no way forward after the lock")
	}
	if h.Win.Canvas().Focused() != cf.again {
		t.Fatalf("after the lock, focus on %T, want the way forward", h.Win.Canvas().Focused())
	}
	// Nothing can be submitted: the fields are read-only, the message in view.
	if !cf.password.Entry.Disabled() || !cf.code.Entry.Disabled() {
		t.Fatal("the dead form's fields stay editable")
	}
	screenstest.AssertInView(t, h.H, cf.msg.Label)
	screenstest.AssertInView(t, h.H, cf.again)
	h.Tap(cf.again)
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
			h.Enter(home.password.Entry, "mauvais")
			h.See("Identifiant ou mot de passe incorrect. Il vous reste " + left)
			if home.password.Entry.Text != "" || h.Win.Canvas().Focused() != home.password.Entry {
				t.Fatalf("%s, attempt %d: the password is not cleared and focused", identifier, i+1)
			}
		}
		h.Enter(home.password.Entry, "mauvais")
		h.See("Trop d'essais incorrects : par sécurité, ce compte est bloqué jusqu'au")
		h.See("Besoin d'aide ? Contactez la cellule d'assistance : assistance@vote.example.")
	}
}

func TestExpiredLink(t *testing.T) { bothModes(t, testExpiredLink) }

func testExpiredLink(t *testing.T, h *harness) {
	h.requestRenewal()
	link := h.latestLink()
	h.clock.Advance(time.Hour)
	h.openLink(link)
	p := screenAs[*pasteScreen](h)
	h.See("Ce lien a expiré. Demandez un nouvel identifiant pour recevoir un nouveau lien.")
	h.Tap(p.again)
	screenAs[*requestScreen](h)
}

func TestUsedLink(t *testing.T) { bothModes(t, testUsedLink) }

func testUsedLink(t *testing.T, h *harness) {
	h.requestRenewal()
	link := h.latestLink()
	h.openLink(link)
	cf := screenAs[*confirmScreen](h)
	test.Type(cf.password.Entry, marie.Password)
	h.Enter(cf.code.Entry, servicetest.Code)
	id := screenAs[*identifierScreen](h)
	h.Tap(id.copyBtn)
	h.openLink(link)
	screenAs[*pasteScreen](h)
	h.See("Lien déjà utilisé.")
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
	h.Enter(cf.code.Entry, servicetest.Code)
	h.See("Lien déjà utilisé.")
	if !cf.again.Visible() {
		t.Error("no way to request a new identifier")
	}
}

func TestInvalidLinkPasted(t *testing.T) { bothModes(t, testInvalidLinkPasted) }

func testInvalidLinkPasted(t *testing.T, h *harness) {
	for _, text := range []string{"bonjour", "https://vote.example/renouvellement?jeton=abc", "https://vote.example/autre"} {
		h.openLink(text)
		p := screenAs[*pasteScreen](h)
		h.See("Ce texte n'est pas un lien de renouvellement. Copiez le lien complet du courriel.")
		if p.link.Entry.Text != text {
			t.Errorf("pasted text %q not kept", text)
		}
	}
	h.openLink("")
	h.See("Collez le lien reçu par courriel.")
	h.openLink("https://vote.example/renouvellement?jeton=" + strings.Repeat("A", 43))
	h.See("Ce lien n'est pas reconnu.")
}

func TestReplacedLink(t *testing.T) { bothModes(t, testReplacedLink) }

func testReplacedLink(t *testing.T, h *harness) {
	h.requestRenewal()
	first := h.latestLink()
	h.requestRenewal()
	h.openLink(first)
	h.See("Ce lien a été remplacé par un lien plus récent. Utilisez le dernier courriel reçu.")
}

func TestLeavingE6WithoutKeepingAsks(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	h.Tap(id.home)
	// A dialog asks; "Rester" keeps the identifier on screen.
	h.See("Avez-vous conservé votre identifiant ?")
	h.Tap(h.OverlayButton("Rester"))
	screenAs[*identifierScreen](h)
	h.See(group(id.renewal.Identifier))
	h.Tap(id.home)
	h.Tap(h.OverlayButton("Quitter cet écran"))
	screenAs[*homeScreen](h)
	// Off the stack, the screen Fyne may still hold forgets the secret.
	if id.renewal.Identifier != "" || id.identifier.Text != "" || id.identifier.Label != "" || len(id.spelled.Objects) != 0 {
		t.Errorf("the left screen still holds the identifier: %q, shown %q, label %q, %d spelled groups",
			id.renewal.Identifier, id.identifier.Text, id.identifier.Label, len(id.spelled.Objects))
	}
}

func TestKeychainSaveAndFill(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	h.Tap(id.save)
	h.See("Identifiant enregistré dans le trousseau du système.")
	newID := id.renewal.Identifier
	if got, _ := h.keys.Load(marie.NUMIC); got != newID {
		t.Fatalf("keychain holds %q", got)
	}
	h.Tap(id.home) // saved: no question asked
	home := screenAs[*homeScreen](h)
	if len(home.fill) != 1 {
		t.Fatalf("%d keychain offers on E1, want 1", len(home.fill))
	}
	h.See("Utiliser l'identifiant enregistré dans le trousseau (NUMIC ••••2345)")
	h.Tap(home.fill[0])
	if home.identifier.Entry.Text != newID {
		t.Fatalf("identifier filled with %q", home.identifier.Entry.Text)
	}
	h.Enter(home.password.Entry, marie.Password)
	screenAs[*spaceScreen](h)
}

func TestNoKeychain(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Keychain = nil })
	id := h.renewToE6()
	h.Tap(id.save)
	h.See("Aucun trousseau du système n'est disponible sur cet ordinateur.")
}

func TestHelpFromEveryScreen(t *testing.T) {
	h := newHarness(t)
	for _, open := range []func(){
		func() {},
		func() { h.Tap(screenAs[*homeScreen](h).lostID) },
		func() { h.Tap(screenAs[*homeScreen](h).haveMail) },
		func() { h.requestRenewal() },
	} {
		h.ui.Home()
		open()
		before := h.ui.Top().Screen
		h.Tap(h.ui.helpButton)
		screenAs[*helpScreen](h)
		h.See("Que faire si je n'ai pas reçu ou si j'ai perdu mon identifiant ?")
		h.See("Contactez la cellule d'assistance : assistance@vote.example")
		h.Tap(h.ui.BackButton)
		if h.ui.Top().Screen != before {
			t.Fatalf("back from help went to %T, not %T", h.ui.Top().Screen, before)
		}
	}
}

func TestEscapeOnCanvasGoesBack(t *testing.T) {
	h := newHarness(t)
	h.Tap(screenAs[*homeScreen](h).lostID)
	h.Win.Canvas().Unfocus()
	h.Win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	screenAs[*homeScreen](h)
}

func TestNoDemoNoOutbox(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Outbox = nil })
	if h.ui.messagesButton != nil {
		t.Fatal("the outbox viewer is offered outside the demonstration")
	}
	h.NotSee("Démonstration")
}

func TestSettingsBackend(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Backend = "Base locale : /tmp/x.db" })
	h.Tap(h.ui.settingsButton)
	s := screenAs[*settingsScreen](h)
	h.See("Actuellement : Base locale : /tmp/x.db")
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
		h.Tap(s.save)
		h.See(why)
		h.See("1 champ à corriger : Adresse du serveur.")
		if h.Win.Canvas().Focused() != s.backend.Entry {
			t.Errorf("%q: the focus is not on the address", bad)
		}
		if got := h.App.Preferences().String(BackendPreference); got != "" {
			t.Fatalf("%q saved as %q", bad, got)
		}
	}
	s.backend.Entry.SetText(" https://vote.example ")
	h.Tap(s.save)
	h.See("Enregistré. Ce réglage s'appliquera au prochain démarrage de l'application.")
	h.NotSee("champ à corriger")
	if got := h.App.Preferences().String(BackendPreference); got != "https://vote.example" {
		t.Fatalf("saved %q", got)
	}
	// What --backend accepts, the screen accepts: the same URL policy.
	s.backend.Entry.SetText("http://127.0.0.1:8443")
	h.Tap(s.save)
	if got := h.App.Preferences().String(BackendPreference); got != "http://127.0.0.1:8443" {
		t.Fatalf("a backend on this machine saved as %q", got)
	}
	s.backend.Entry.SetText("")
	h.Tap(s.save)
	if got := h.App.Preferences().String(BackendPreference); got != "" {
		t.Fatalf("clearing saved %q", got)
	}
}

// TestE6Question: the window's close button asks too; Escape and the
// default answer keep the identifier; Escape never opens a second copy.
func TestE6Question(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	closed := false
	h.ui.win = &closeSpy{Window: h.Win, closed: &closed}
	h.ui.closeWindow()
	h.See("Avez-vous conservé votre identifiant ?")
	stay := h.OverlayButton("Rester")
	if h.Win.Canvas().Focused() != stay || stay.Importance != widget.HighImportance {
		t.Fatal("the safe answer is not the default")
	}
	screenstest.Key(stay, fyne.KeyEscape) // Escape = stay
	if len(h.Win.Canvas().Overlays().List()) != 0 || closed {
		t.Fatal("Escape did not just close the question")
	}
	screenAs[*identifierScreen](h)
	h.Win.Canvas().Unfocus()
	h.Win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // Escape on the page: the question
	h.See("Avez-vous conservé votre identifiant ?")
	h.Win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // and again: it closes, no second copy
	if n := len(h.Win.Canvas().Overlays().List()); n != 0 {
		t.Fatalf("%d dialogs after Escape on the question", n)
	}
	screenAs[*identifierScreen](h)
	h.See(group(id.renewal.Identifier))
	h.ui.closeWindow()
	screenstest.Key(h.OverlayButton("Rester"), fyne.KeyReturn) // Enter on the default
	if closed {
		t.Fatal("Enter on the default answer closed the window")
	}
	h.ui.closeWindow()
	h.Tap(h.OverlayButton("Quitter cet écran"))
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
	h.Tap(h.ui.languageButton)
	h.See("Avez-vous conservé votre identifiant ?")
	h.Tap(h.OverlayButton("Rester"))
	if switched != "" {
		t.Fatal("the language switched without asking")
	}
	screenAs[*identifierScreen](h)
	h.Tap(h.ui.languageButton)
	h.Tap(h.OverlayButton("Quitter cet écran"))
	if switched != "en" {
		t.Fatalf("switched to %q", switched)
	}
}
