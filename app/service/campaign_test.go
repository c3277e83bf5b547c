package service_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

func TestFirstCredentialsCampaign(t *testing.T) {
	e := newEnv(t)
	const n = service.CampaignBatch + 20
	var roll bytes.Buffer
	servicetest.WriteRoll(&roll, n, 0)
	e.importRoll(roll.String())
	// A voter entered without a usable mobile is left for the desk.
	e.exec(`UPDATE voters SET mobile = '' WHERE numic = '50000007'`)

	// Stopped after the first batch…
	ctx, cancel := context.WithCancel(e.ctx)
	rep, err := e.svc.Operator.SendFirstCredentials(ctx, "cli", "premier-envoi", func(portal.CampaignReport) { cancel() })
	if err != nil || !rep.Cancelled || rep.Sent+rep.Skipped != service.CampaignBatch {
		t.Fatalf("first run: %+v, %v", rep, err)
	}
	// …resumed by running it again, which serves only the rest.
	rep, err = e.svc.Operator.SendFirstCredentials(e.ctx, "cli", "premier-envoi", nil)
	if err != nil || rep.Sent != n-service.CampaignBatch {
		t.Fatalf("resume: %+v, %v", rep, err)
	}
	if rep, _ := e.svc.Operator.SendFirstCredentials(e.ctx, "cli", "premier-envoi", nil); rep.Sent != 0 || rep.Skipped != 0 {
		t.Fatalf("third run sent again: %+v", rep)
	}
	// Each voter once: one e-mail and one SMS; none for the demo voters,
	// who had credentials, nor for the one without a mobile.
	if got := e.count("outbox", "kind = 'credentials.identifier'"); got != n-1 {
		t.Errorf("%d identifier e-mails, want %d", got, n-1)
	}
	if got := e.count("outbox", "kind = 'credentials.password'"); got != n-1 {
		t.Errorf("%d password SMS, want %d", got, n-1)
	}
	if got := e.count("outbox", "voter_id IN (SELECT id FROM voters WHERE numic IN ('00012345', '50000007'))"); got != 0 {
		t.Errorf("%d messages to voters who should get none", got)
	}
	if got := e.count("audit", "action = 'credentials.skipped'"); got != 1 {
		t.Errorf("%d skips audited", got)
	}

	// The credentials work: read them as the voter would, and log in.
	var email, sms string
	for _, m := range e.outbox() {
		if m.To == "votant3@example.org" {
			email, _ = mailParts(t, m.Raw)
		}
		if m.To == "+33610000003" {
			sms = string(m.Raw)
		}
	}
	id := regexp.MustCompile(`identifiant de connexion au portail de vote par Internet : ([A-Za-z0-9]{12})`).FindStringSubmatch(email)
	pw := smsPassword.FindString(sms)
	if id == nil || pw == "" || !strings.Contains(email, "NUMIC) : 50000003") {
		t.Fatalf("e-mail %q / SMS %q", email, sms)
	}
	if _, err := e.svc.Portal.Login(e.ctx, id[1], pw); err != nil {
		t.Fatalf("login with the first credentials: %v", err)
	}
}
