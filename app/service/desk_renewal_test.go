package service_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

const deskReason = "appel de l'électrice, NUMIC et date de naissance vérifiés"

func (e *env) startRenewal(token string, voterID int64, kind portal.RenewalKind) (portal.DeskRenewal, error) {
	return e.svc.Office.StartRenewal(e.ctx, token, voterID, kind, deskReason)
}

// secretsOutOf checks that none of the secrets appears in what the agent
// got, the audit log, the clear columns of the database or the logs.
func (e *env) secretsOutOf(answer any, secrets ...string) {
	e.t.Helper()
	b, _ := json.Marshal(answer)
	var audit strings.Builder
	rows, err := e.raw.QueryContext(e.ctx, `SELECT actor || action || detail FROM audit`)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		audit.WriteString(s + "\n")
	}
	rows.Close()
	var clear strings.Builder
	rows, _ = e.raw.QueryContext(e.ctx, `SELECT recipient || subject || kind || last_error FROM outbox`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		clear.WriteString(s + "\n")
	}
	rows.Close()
	for _, s := range secrets {
		for where, text := range map[string]string{"the agent's answer": string(b), "the audit log": audit.String(),
			"the outbox's clear columns": clear.String(), "the logs": e.logs.String()} {
			if s != "" && strings.Contains(text, s) {
				e.t.Errorf("%s holds the secret %q", where, s)
			}
		}
	}
}

func TestDeskIdentifierRenewal(t *testing.T) {
	e := newEnv(t)
	bob := e.agent("bob", portal.RoleAgent)
	m := e.voter(marie.NUMIC)
	got, err := e.startRenewal(bob, m.ID, portal.RenewIdentifier)
	if err != nil {
		t.Fatal(err)
	}
	want := portal.DeskRenewal{Kind: portal.RenewIdentifier, Channel: "email", Recipient: marie.Email,
		ExpiresAt: servicetest.Start.Add(e.cfg.LinkTTL)}
	if got != want {
		t.Fatalf("StartRenewal = %+v, want %+v", got, want)
	}
	// The usual e-mail, to the address on file, with a link that works
	// with the voter's SMS password.
	msg := e.outbox()[0]
	text, _ := mailParts(t, msg.Raw)
	if msg.To != marie.Email || msg.Kind != "identifier.link" || !strings.Contains(text, "Suite à votre demande de renouvellement de votre identifiant") {
		t.Fatalf("e-mail to %s (%s):\n%s", msg.To, msg.Kind, text)
	}
	link := e.lastLink()
	token := link[strings.LastIndex(link, "=")+1:]
	r, err := e.confirm(link, marie.Password)
	if err != nil {
		t.Fatalf("the voter's confirmation: %v", err)
	}
	e.secretsOutOf(got, token, r.Identifier)
	a := e.audited("desk.renewal.identifier")
	if len(a) != 1 || a[0].actor != "agent:bob" || a[0].voter != m.ID || a[0].facts["reason"] != deskReason || a[0].facts["to"] != marie.Email {
		t.Errorf("audited as %+v", a)
	}
	// A second one replaces the first link, as the voter's own request would.
	e.clock.Advance(time.Minute)
	if _, err := e.startRenewal(bob, m.ID, portal.RenewIdentifier); err != nil {
		t.Fatal(err)
	}
	if n := e.count("links", "voter_id = ? AND replaced_at IS NULL AND used_at IS NULL", m.ID); n != 1 {
		t.Errorf("%d live links, want 1", n)
	}
}

func TestDeskPasswordRenewal(t *testing.T) {
	e := newEnv(t)
	bob := e.agent("bob", portal.RoleAgent)
	m := e.voter(marie.NUMIC)
	got, err := e.startRenewal(bob, m.ID, portal.RenewPassword)
	if err != nil {
		t.Fatal(err)
	}
	if want := (portal.DeskRenewal{Kind: portal.RenewPassword, Channel: "sms", Recipient: marie.Mobile}); got != want {
		t.Fatalf("StartRenewal = %+v, want %+v", got, want)
	}
	sms, password := e.lastSMS()
	if sms.To != marie.Mobile || sms.Kind != "password.sms" || len(password) != 12 {
		t.Fatalf("SMS to %s (%s): %q", sms.To, sms.Kind, sms.Raw)
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); !errors.Is(err, portal.ErrBadLogin) {
		t.Errorf("old password: %v", err)
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, password); err != nil {
		t.Fatalf("the password from the SMS: %v", err)
	}
	var notice bool
	for _, m := range e.outbox() {
		notice = notice || (m.Kind == "password.changed" && m.To == marie.Email)
	}
	if !notice {
		t.Error("no notice e-mail")
	}
	e.secretsOutOf(got, password)
	if a := e.audited("desk.renewal.password"); len(a) != 1 || a[0].actor != "agent:bob" || a[0].facts["reason"] != deskReason {
		t.Errorf("audited as %+v", a)
	}
	// The voter's file shows no secret either.
	f, err := e.svc.Office.VoterFile(e.ctx, bob, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.secretsOutOf(f, password)
}

func TestDeskRenewalRules(t *testing.T) {
	e := newEnvCfg(t, func(c *service.Config) { c.DeskRenewals = 5 })
	bob := e.agent("bob", portal.RoleAgent)
	e.agent("carl", portal.RoleAgent)
	m, ines := e.voter(marie.NUMIC), e.voter(service.DemoRoll[2].NUMIC)

	_, err := e.svc.Office.StartRenewal(e.ctx, bob, m.ID, "both", deskReason)
	wantField(t, "an unknown kind", err, portal.FieldError{Field: portal.FieldKind, Reason: portal.ReasonFormat})
	_, err = e.svc.Office.StartRenewal(e.ctx, bob, m.ID, portal.RenewPassword, " ")
	wantField(t, "no reason", err, portal.FieldError{Field: portal.FieldReason, Reason: portal.ReasonRequired})
	_, err = e.svc.Office.StartRenewal(e.ctx, "", m.ID, portal.RenewPassword, deskReason)
	wantCode(t, "no session", err, portal.CodeUnauthorized)
	_, err = e.startRenewal(bob, 4242, portal.RenewPassword)
	wantCode(t, "no voter", err, portal.CodeNotFound)

	// Not both at once: a pending identifier link blocks a password.
	if _, err := e.startRenewal(bob, m.ID, portal.RenewIdentifier); err != nil {
		t.Fatal(err)
	}
	_, err = e.startRenewal(bob, m.ID, portal.RenewPassword)
	wantCode(t, "a password while an identifier link is pending", err, portal.CodeRenewalConflict)
	// … and a password renewed blocks the identifier for the cool-down.
	if _, err := e.startRenewal(bob, ines.ID, portal.RenewPassword); err != nil {
		t.Fatal(err)
	}
	_, err = e.startRenewal(bob, ines.ID, portal.RenewIdentifier)
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Code != portal.CodeRenewalConflict || !pe.Until.Equal(servicetest.Start.Add(e.cfg.Cooldown)) {
		t.Fatalf("an identifier within the cool-down: %v", err)
	}
	// The voter's own requests and the desk's share the per-NUMIC limit
	// (3 per hour): one by the desk above, two by the voter.
	e.requestLink()
	e.requestLink()
	_, err = e.startRenewal(bob, m.ID, portal.RenewIdentifier)
	if !errors.As(err, &pe) || pe.Code != portal.CodeRateLimited {
		t.Fatalf("a fourth identifier request within the hour: %v", err)
	}
	// A locked voter: the desk unlocks first.
	e.clock.Advance(e.cfg.RateWindow)
	bob = e.login("bob")
	for range e.cfg.MaxFailures {
		e.svc.Portal.Login(e.ctx, marie.Identifier, "wrong")
	}
	_, err = e.startRenewal(bob, m.ID, portal.RenewIdentifier)
	wantCode(t, "a locked voter", err, portal.CodeLocked)
	// No mobile in E.164 form: no SMS.
	e.exec(`UPDATE voters SET mobile = '0612345678' WHERE id = ?`, ines.ID)
	e.clock.Advance(e.cfg.Cooldown)
	bob = e.login("bob")
	_, err = e.startRenewal(bob, ines.ID, portal.RenewPassword)
	wantCode(t, "no mobile", err, portal.CodeNoMobile)

	refusals := map[string]int{}
	for _, r := range e.audited("desk.renewal.refused") {
		refusals[r.facts["why"]]++
		if r.actor != "agent:bob" || r.facts["reason"] != deskReason {
			t.Errorf("refusal audited as %+v", r)
		}
	}
	if want := map[string]int{"not_both": 2, "voter_limit": 1, "locked": 1, "no_mobile": 1}; fmt.Sprint(refusals) != fmt.Sprint(want) {
		t.Errorf("refusals audited %v, want %v", refusals, want)
	}

	// The limit per agent, over all voters (5 here).
	carl := e.login("carl")
	john := e.voter(service.DemoRoll[1].NUMIC)
	e.exec(`UPDATE voters SET locked_until = NULL, mobile = '+33612345679' WHERE 1`)
	sent := 0
	for _, v := range []int64{m.ID, john.ID, ines.ID} {
		for range 3 {
			if _, err := e.startRenewal(carl, v, portal.RenewIdentifier); err == nil {
				sent++
			} else if !errors.Is(err, portal.ErrRateLimited) {
				t.Fatal(err)
			}
		}
	}
	if sent != 5 {
		t.Errorf("carl started %d renewals, want the agent limit of 5", sent)
	}
	if _, err := e.startRenewal(bob, john.ID, portal.RenewIdentifier); err != nil {
		t.Errorf("another agent is not limited by carl's count: %v", err)
	}
}

// TestDeskRenewalsConcurrent: the limits hold when many renewals are
// started at once, by the desk and by the voter.
func TestDeskRenewalsConcurrent(t *testing.T) {
	e := newEnv(t)
	tokens := []string{e.agent("bob", portal.RoleAgent), e.agent("carl", portal.RoleAgent)}
	m := e.voter(marie.NUMIC)
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, limited := 0, 0
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if i%4 == 0 {
				err = e.request(marie.NUMIC, marie.Email)
			} else {
				_, err = e.startRenewal(tokens[i%2], m.ID, portal.RenewIdentifier)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, portal.ErrRateLimited):
				limited++
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	// The voter's own requests that hit the limit still answer nil only
	// when under it: every success is one e-mail.
	mails := 0
	for _, msg := range e.outbox() {
		if msg.Kind == "identifier.link" {
			mails++
		}
	}
	if mails != e.cfg.MaxRequests {
		t.Fatalf("%d links e-mailed from %d concurrent requests, want the limit %d (%d ok, %d limited)", mails, n, e.cfg.MaxRequests, ok, limited)
	}
	if n := e.count("links", "voter_id = ? AND replaced_at IS NULL AND revoked_at IS NULL", m.ID); n != 1 {
		t.Errorf("%d live links, want 1", n)
	}
}
