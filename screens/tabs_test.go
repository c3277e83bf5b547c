package screens

import (
	"testing"

	"fyne.io/fyne/v2"
)

// tabsTo counts the Tab presses from the page's first focus to target
// (0: it has the focus), or fails if Tab never gets there.
func tabsTo(t *testing.T, h *harness, target fyne.Focusable) int {
	t.Helper()
	c := h.Win.Canvas()
	start := c.Focused()
	for n := 0; n < 40; n++ {
		if c.Focused() == target {
			c.Focus(start) // back where the page started, for the next count
			return n
		}
		c.FocusNext()
	}
	t.Fatalf("%q: Tab never reaches %T", h.Win.Title(), target)
	return -1
}

// TestTabPresses counts, for the closing note, the Tab presses from each
// renewal page's first focus to each of its actions (go test -v -run
// TestTabPresses ./screens), in a window wide enough for the toolbar.
// It fails if an action cannot be reached by Tab.
func TestTabPresses(t *testing.T) {
	h := newHarness(t)
	h.Win.Resize(fyne.NewSize(960, 690))
	log := func(page, action string, n int) { t.Logf("%-4s %-45s %2d", page, action, n) }

	home := screenAs[*homeScreen](h)
	for _, a := range []struct {
		name string
		f    fyne.Focusable
	}{{"Identifiant (initial focus)", home.identifier.Entry}, {"Identifiant perdu ou non reçu", home.lostID},
		{"Mot de passe", home.password.Entry}, {"Afficher le mot de passe", home.password.Reveal},
		{"Mot de passe perdu ou non reçu", home.lostPW}, {"Connectez-vous", home.login.Button},
		{"J'ai reçu le courriel de renouvellement", home.haveMail}, {"Aide (toolbar)", h.ui.helpButton}} {
		log("E1", a.name, tabsTo(t, h, a.f))
	}

	h.Tap(home.lostID)
	r := screenAs[*requestScreen](h)
	for _, a := range []struct {
		name string
		f    fyne.Focusable
	}{{"NUMIC (initial focus)", r.numic.Entry}, {"Adresse électronique", r.email.Entry}, {"Nouveau code", r.code.refresh},
		{"Écouter le code", r.code.listen}, {"Code de sécurité", r.code.Entry}, {"Demander un nouvel identifiant", r.send.Button},
		{"Retour", h.ui.BackButton}} {
		log("E2", a.name, tabsTo(t, h, a.f))
	}

	h.requestRenewal()
	sent := screenAs[*sentScreen](h)
	log("E3", "J'ai reçu le courriel (initial focus)", tabsTo(t, h, sent.haveMail))
	log("E3", "Retour à l'accueil", tabsTo(t, h, sent.home))
	h.Tap(sent.haveMail)
	p := screenAs[*pasteScreen](h)
	log("link", "Lien reçu par courriel (initial focus)", tabsTo(t, h, p.link.Entry))
	log("link", "Ouvrir le lien", tabsTo(t, h, p.open.Button))

	h.openLink(h.latestLink())
	cf := screenAs[*confirmScreen](h)
	for _, a := range []struct {
		name string
		f    fyne.Focusable
	}{{"Mot de passe (initial focus)", cf.password.Entry}, {"Afficher le mot de passe", cf.password.Reveal},
		{"Nouveau code", cf.code.refresh}, {"Écouter le code", cf.code.listen}, {"Code de sécurité", cf.code.Entry},
		{"Valider", cf.validate.Button}} {
		log("E5", a.name, tabsTo(t, h, a.f))
	}

	id := h.renewToE6()
	for _, a := range []struct {
		name string
		f    fyne.Focusable
	}{{"Copier (initial focus)", id.copyBtn}, {"Enregistrer dans le trousseau", id.save},
		{"Retour à l'accueil", id.home}, {"the identifier's text", id.identifier}, {"Épeler", id.spell}} {
		log("E6", a.name, tabsTo(t, h, a.f))
	}
}
