package screens

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/resources"
)

// refuseMarie sends marie a renewal link from the desk, has the relay
// take it and her server refuse it as an unknown user.
func refuseMarie(t *testing.T, h *harness, e *servicetest.Env) {
	t.Helper()
	f := h.openFile("bob", marie.NUMIC)
	test.Type(f.reason.Entry, "appel de l'électrice")
	h.tap(f.renewID)
	ctx := context.Background()
	due, err := e.DB.ClaimDue(ctx, e.Clock.Now(), 0, []service.Channel{service.ChannelEmail}, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("queued: %v, %v", due, err)
	}
	if err := e.DB.MarkSent(ctx, due[0].ID, e.Clock.Now(), "", "", false); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.Service.Operator.RecordDelivery(ctx, due[0].ID, service.ChannelEmail, service.Refused,
		"550 5.1.1 <marie.dupont@example.org>: Recipient address rejected: User unknown"); !ok || err != nil {
		t.Fatalf("RecordDelivery: %v, %v", ok, err)
	}
}

// TestDeliveryAtTheDesk: the voter file shows the refused e-mail in
// words, the remote answer, and the contact change as the remedy; the
// outbox monitor counts by stage and draws the refusal rate of the
// domain; in both languages.
func TestDeliveryAtTheDesk(t *testing.T) {
	for _, tc := range []struct {
		lang                                   string
		stage, answer, unknown, stages, domain string
	}{
		{"fr", "lien de renouvellement de l'identifiant à marie.dupont@example.org : refusé par le serveur destinataire",
			"Réponse du serveur destinataire", "proposez la modification du courriel de l'électeur",
			"remis au relais : 0 — distribués : 0 — retardés : 0 — refusés : 1", "example.org : 100 % refusés (1 sur 1)"},
		{"en", "marie.dupont@example.org: refused by the recipient's server",
			"The recipient's server answered", "propose a change of the voter's e-mail",
			"handed to the relay: 0 — delivered: 0 — delayed: 0 — refused: 1", "example.org: 100 % refused (1 of 1)"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.lang); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			h, e := newOfficeHarness(t)
			refuseMarie(t, h, e)
			h.openFile("bob", marie.NUMIC)
			h.see(tc.stage)
			h.see(tc.answer)
			h.see("550 5.1.1 <marie.dupont@example.org>: Recipient address rejected: User unknown")
			h.see(tc.unknown)
			h.capture("voter-file-" + tc.lang)

			h.ui.agent = nil
			h.ui.Home()
			h.tap(h.agentLogin("bob").outbox)
			m := screenAs[*monitorScreen](h)
			h.see(tc.stages)
			h.see(tc.domain)
			bars := 0
			for _, o := range test.LaidOutObjects(m.chart) {
				if b, ok := o.(*bar); ok {
					bars++
					if b.rate != 1 {
						t.Errorf("bar at %v, want 1", b.rate)
					}
				}
			}
			if bars != 1 {
				t.Errorf("%d bars drawn, want one for example.org", bars)
			}
			h.capture("outbox-monitor-" + tc.lang)
		})
	}
}

// TestSentSaysTheDeskSees: both "sent" pages, the e-mail's and the
// SMS's, tell the voter that the help desk can see whether the message
// arrived, in both languages, and nothing more: a request that matched
// no voter gets the same page, word for word.
func TestSentSaysTheDeskSees(t *testing.T) {
	for _, tc := range []struct{ lang, email, sms string }{
		{"fr", "Si le courriel n'arrive pas, le service d'assistance peut voir s'il a été distribué",
			"Si le SMS n'arrive pas, le service d'assistance peut voir s'il a été distribué"},
		{"en", "If the e-mail does not arrive, the help desk can see whether it was delivered",
			"If the SMS does not arrive, the help desk can see whether it was delivered"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.lang); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			sent := func(h *harness, identifier, email string) string {
				h.ui.Home()
				if identifier == "" {
					h.tap(screenAs[*homeScreen](h).lostID)
					r := screenAs[*requestScreen](h)
					test.Type(r.numic.Entry, marie.NUMIC)
					test.Type(r.email.Entry, email)
					h.enter(r.code.Entry, servicetest.Code)
					screenAs[*sentScreen](h)
				} else {
					h.tap(screenAs[*homeScreen](h).lostPW)
					p := screenAs[*passwordScreen](h)
					test.Type(p.identifier.Entry, identifier)
					test.Type(p.numic.Entry, marie.NUMIC)
					h.enter(p.code.Entry, servicetest.Code)
					screenAs[*passwordSentScreen](h)
				}
				return h.texts()
			}
			for _, c := range []struct{ want, hit, miss string }{
				{tc.email, sent(newHarness(t), "", marie.Email), sent(newHarness(t), "", "nobody@example.org")},
				{tc.sms, sent(newHarness(t), marie.Identifier, ""), sent(newHarness(t), "AAAAAAAAAAAA", "")},
			} {
				if !strings.Contains(c.hit, c.want) {
					t.Errorf("the page lacks %q:\n%s", c.want, c.hit)
				}
				if c.hit != c.miss {
					t.Errorf("a miss shows\n%s\nwhere a voter's request shows\n%s", c.miss, c.hit)
				}
			}
		})
	}
}

// capture writes what the window shows, drawn by Fyne's test driver, to
// $CONSULVOTE_SCREENSHOTS/name.png when that variable names a folder.
func (h *harness) capture(name string) {
	dir := os.Getenv("CONSULVOTE_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Lay the page out again at full height, as the real window does.
	size := h.win.Canvas().Size()
	h.win.Resize(fyne.NewSize(size.Width, 1100))
	defer h.win.Resize(size)
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, h.win.Canvas().Capture()); err != nil {
		h.t.Fatal(err)
	}
}
