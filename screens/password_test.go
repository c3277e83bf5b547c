package screens

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"consulvote/app/service/servicetest"
	"consulvote/screens/screenstest"
)

// TestPasswordRenewalFlow: lose the password, read the SMS in the demo
// outbox, log in with the password it carries.
func TestPasswordRenewalFlow(t *testing.T) { bothModes(t, testPasswordRenewalFlow) }

func testPasswordRenewalFlow(t *testing.T, h *harness) {
	h.Tap(screenAs[*homeScreen](h).lostPW)
	p := screenAs[*passwordScreen](h)
	if h.Win.Title() != "Mot de passe perdu ou non reçu – consulvote" {
		t.Errorf("title %q", h.Win.Title())
	}
	h.See("Le numéro d'identification consulaire (NUMIC) vous a été rappelé dans le courriel contenant votre identifiant de connexion au portail de vote.")
	if h.Win.Canvas().Focused() != p.identifier.Entry {
		t.Error("focus not on the identifier")
	}
	test.Type(p.identifier.Entry, marie.Identifier)
	test.Type(p.numic.Entry, marie.NUMIC)
	h.Enter(p.code.Entry, servicetest.Code)
	screenAs[*passwordSentScreen](h)
	h.See("un SMS contenant votre nouveau mot de passe vient d'être envoyé au numéro de mobile enregistré")

	h.Tap(h.ui.messagesButton)
	screenAs[*outboxScreen](h)
	h.See("SMS")
	h.See("À : " + marie.Mobile)
	var password string
	for _, m := range screenstest.Messages(t, h.svc.Portal) {
		if m.Channel == "sms" {
			password = screenstest.PasswordInSMS.FindString(m.Text)
			break
		}
	}
	if password == "" || password == marie.Password {
		t.Fatalf("no new password in the SMS (%q)", password)
	}
	h.See(password) // the viewer shows the SMS text

	h.ui.Home()
	home := screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, marie.Identifier)
	h.Enter(home.password.Entry, marie.Password)
	h.See("Identifiant ou mot de passe incorrect.")
	h.Enter(home.password.Entry, password)
	screenAs[*spaceScreen](h)
}

func TestPasswordSameAnswerForAMiss(t *testing.T) {
	h := newHarness(t)
	h.Tap(screenAs[*homeScreen](h).lostPW)
	p := screenAs[*passwordScreen](h)
	test.Type(p.identifier.Entry, "AAAAAAAAAAAA")
	test.Type(p.numic.Entry, marie.NUMIC)
	h.Enter(p.code.Entry, servicetest.Code)
	screenAs[*passwordSentScreen](h)
	if ms := screenstest.Messages(t, h.svc.Portal); len(ms) != 0 {
		t.Fatalf("%d messages for an unknown identifier", len(ms))
	}
}

func TestPasswordRefusedWhileIdentifierPending(t *testing.T) {
	bothModes(t, testPasswordRefusedWhileIdentifierPending)
}

func testPasswordRefusedWhileIdentifierPending(t *testing.T, h *harness) {
	h.requestRenewal() // a link is pending
	h.ui.Home()
	h.Tap(screenAs[*homeScreen](h).lostPW)
	p := screenAs[*passwordScreen](h)
	test.Type(p.identifier.Entry, marie.Identifier)
	test.Type(p.numic.Entry, marie.NUMIC)
	h.Enter(p.code.Entry, servicetest.Code)
	// Refused, but answered as any request: the e-mail tells why, and the
	// page does not claim the old password is gone.
	screenAs[*passwordSentScreen](h)
	h.See("Si la demande n'a pas pu aboutir, votre mot de passe reste inchangé et un courriel à votre adresse électronique vous explique pourquoi.")
	h.NotSee("L'ancien mot de passe ne fonctionne plus.")
}

func TestPasswordRefusedAfterIdentifierRenewal(t *testing.T) {
	h := newHarness(t)
	id := h.renewToE6()
	newID := id.renewal.Identifier // the screen forgets it once left
	h.Tap(id.copyBtn)
	h.Tap(id.home)
	h.Tap(screenAs[*homeScreen](h).lostPW)
	p := screenAs[*passwordScreen](h)
	test.Type(p.identifier.Entry, newID)
	test.Type(p.numic.Entry, marie.NUMIC)
	h.Enter(p.code.Entry, servicetest.Code)
	screenAs[*passwordSentScreen](h)
	h.See("Si la demande n'a pas pu aboutir, votre mot de passe reste inchangé et un courriel à votre adresse électronique vous explique pourquoi.")
}
