package office

import (
	"context"
	"testing"

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
	h.Tap(f.renewID)
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
			h.See(tc.stage)
			h.See(tc.answer)
			h.See("550 5.1.1 <marie.dupont@example.org>: Recipient address rejected: User unknown")
			h.See(tc.unknown)
			h.Capture("voter-file-" + tc.lang)

			h.Tap(h.agentLogin("bob").outbox)
			m := screenAs[*monitorScreen](h)
			h.See(tc.stages)
			h.See(tc.domain)
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
			h.Capture("outbox-monitor-" + tc.lang)
		})
	}
}
