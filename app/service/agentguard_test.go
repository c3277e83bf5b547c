package service_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// rotating is the i-th of 200 source addresses.
func rotating(i int) string { return fmt.Sprintf("198.51.%d.%d", 100+i%200/100, i%100) }

// lockCounter counts the observer's locks by kind.
type lockCounter struct{ agentAccount, agentTOTP atomic.Int64 }

func (*lockCounter) SecurityCode(string)               {}
func (*lockCounter) RenewalRequested(string, string)   {}
func (*lockCounter) RenewalConfirmed(string, string)   {}
func (*lockCounter) Login(string)                      {}
func (*lockCounter) HashWaited(time.Duration)          {}
func (*lockCounter) Transaction(string, time.Duration) {}

func (c *lockCounter) Locked(kind string) {
	switch kind {
	case "agent_account":
		c.agentAccount.Add(1)
	case "agent_totp":
		c.agentTOTP.Add(1)
	}
}

// TestAgentAccountGuardRotatingSources: wrong passwords for one name from
// 200 rotating addresses, which no per-source throttle sees. At once: at
// most agentAccountTries (20) are checked, the others refused, for a
// known name as for an unknown one. Then a patient attacker who waits
// every delay: the delays double from about a second after the 20th
// failure, and 30 days give fewer than 100 failures in a row (NIST SP
// 800-63B); the agent, waiting the last delay, logs in.
func TestAgentAccountGuardRotatingSources(t *testing.T) {
	for _, name := range []string{"alice", "personne"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			obs := &lockCounter{}
			svc, err := service.New(e.db, e.cfg, service.Options{Clock: e.clock, CodeRand: servicetest.Sevens{}, Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Operator.AddAgent(e.ctx, "alice", "agent", "correct horse battery", false, portal.Scope{Central: true}); err != nil {
				t.Fatal(err)
			}
			before := svc.Operator.HashStats().Done
			got := guesses(200, func(i int) error {
				_, err := svc.Office.AgentLogin(from(rotating(i)), name, fmt.Sprint("mauvais ", i), "")
				return err
			})
			checked := svc.Operator.HashStats().Done - before
			t.Logf("200 concurrent wrong passwords for %s from 200 addresses: %d checked; answers %v", name, checked, got)
			if checked != 20 || got[portal.CodeBadLogin]+got[portal.CodeRateLimited]+got[portal.CodeUnavailable] != 200 {
				t.Fatalf("%d of 200 checked (answers %v), want 20", checked, got)
			}
			// Patience: each refusal waited out, a new address every time.
			var waits []time.Duration
			start := e.clock.Now()
			for i := 0; e.clock.Now().Before(start.Add(30 * 24 * time.Hour)); i++ {
				_, err := svc.Office.AgentLogin(from(rotating(i)), name, "mauvais", "")
				var pe *portal.Error
				if errors.As(err, &pe) && pe.Code == portal.CodeRateLimited && pe.Until.After(e.clock.Now()) {
					waits = append(waits, pe.Until.Sub(e.clock.Now()))
					e.clock.Advance(pe.Until.Sub(e.clock.Now()))
					continue
				}
				e.clock.Advance(time.Second)
			}
			failures := int(svc.Operator.HashStats().Done - before)
			t.Logf("30 days of patient guessing: %d failures in a row, last wait %v", failures, waits[len(waits)-1])
			if failures >= 100 || failures < 2*20 {
				t.Errorf("%d failures in 30 days, want fewer than 100 (and the 40 or so the delays allow)", failures)
			}
			if n := len(waits); n < 5 || waits[n-1] < 24*time.Hour || waits[n-1] <= waits[n-2] {
				t.Errorf("waits %v: want them growing, past a day", waits)
			}
			if name == "alice" {
				if n := obs.agentAccount.Load(); n != 1 {
					t.Errorf("%d agent_account locks counted, want 1", n)
				}
				e.clock.Advance(waits[len(waits)-1])
				if _, err := svc.Office.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", ""); err != nil {
					t.Errorf("alice after the last delay: %v", err)
				}
			}
		})
	}
}

// TestAgentTOTPLockedAfterWrongCodes: the right password with 50 wrong
// codes at once from 50 addresses: exactly 10 codes checked; then the
// right code is refused like a wrong password until a recovery code opens
// a session; locked again, until reset-totp.
func TestAgentTOTPLockedAfterWrongCodes(t *testing.T) {
	e := newEnv(t)
	obs := &lockCounter{}
	svc, err := service.New(e.db, e.cfg, service.Options{Clock: e.clock, CodeRand: servicetest.Sevens{}, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	enr, err := svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true})
	if err != nil {
		t.Fatal(err)
	}
	// wrong is a code that none of the steps accepted now gives.
	wrong := func(now time.Time) string {
		for i := 0; ; i++ {
			c := fmt.Sprintf("%06d", i)
			if c != servicetest.TOTP(t, enr.Secret, now.Add(-30*time.Second)) && c != servicetest.TOTP(t, enr.Secret, now) &&
				c != servicetest.TOTP(t, enr.Secret, now.Add(30*time.Second)) {
				return c
			}
		}
	}
	lock := func() map[portal.Code]int {
		return guesses(50, func(i int) error {
			_, err := svc.Office.AgentLogin(from(rotating(i)), "alice", "correct horse battery", wrong(e.clock.Now()))
			return err
		})
	}
	// login waits out any delay of the account, then logs in from the office.
	login := func(code string) error {
		_, err := svc.Office.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", code)
		var pe *portal.Error
		if errors.As(err, &pe) && pe.Code == portal.CodeRateLimited {
			e.clock.Advance(pe.Until.Sub(e.clock.Now()))
			_, err = svc.Office.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", code)
		}
		return err
	}
	right := func() error { return login(servicetest.TOTP(t, enr.Secret, e.clock.Now())) }
	refused := func(err error) bool {
		return errors.Is(err, portal.ErrBadLogin) || portal.ErrorCode(err) == portal.CodeRateLimited
	}
	got := lock()
	checked := e.count("audit", `action = 'agent.login.failed' AND detail LIKE '%"why":"second_factor"%'`)
	if checked != 10 || e.count("audit", "action = 'agent.second_factor_locked'") != 1 || obs.agentTOTP.Load() != 1 {
		t.Fatalf("50 wrong codes at once: %d checked (answers %v), %d locks audited, %d counted; want 10, 1, 1",
			checked, got, e.count("audit", "action = 'agent.second_factor_locked'"), obs.agentTOTP.Load())
	}
	e.clock.Advance(time.Hour) // past every delay
	if err := right(); !refused(err) {
		t.Fatalf("the right code after 10 wrong ones: %v, want it refused as a wrong one", err)
	}
	if err := login(enr.RecoveryCodes[0]); err != nil {
		t.Fatalf("a recovery code while the codes are locked: %v", err)
	}
	e.clock.Advance(time.Minute)
	if err := right(); err != nil {
		t.Fatalf("the right code after the recovery code: %v", err)
	}
	lock()
	e.clock.Advance(time.Hour)
	if err := right(); !refused(err) {
		t.Fatalf("the right code, locked again: %v, want it refused", err)
	}
	next, err := svc.Operator.ResetSecondFactor(e.ctx, "cli", "alice")
	if err != nil {
		t.Fatal(err)
	}
	enr = next
	if err := right(); err != nil {
		t.Errorf("the new secret's code after reset-totp: %v", err)
	}
}

// TestAgentAccountGuardAnswersAlike: 30 wrong passwords in a row from 30
// addresses, for an agent and for a name nobody has: the same answers,
// the same waits (the guard's, from the 20th), the same hashes.
func TestAgentAccountGuardAnswersAlike(t *testing.T) {
	run := func(name string) (answers []string, hashes int64) {
		e := newEnv(t)
		if _, err := e.svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true}); err != nil {
			t.Fatal(err)
		}
		before := e.svc.Operator.HashStats().Done
		for i := range 30 {
			_, err := e.svc.Office.AgentLogin(from(rotating(i)), name, "mauvais mot de passe", "")
			var pe *portal.Error
			var wait time.Duration
			if errors.As(err, &pe) && !pe.Until.IsZero() {
				wait = pe.Until.Sub(e.clock.Now())
				e.clock.Advance(wait)
			}
			answers = append(answers, fmt.Sprint(portal.ErrorCode(err), " ", wait))
			e.clock.Advance(time.Millisecond)
		}
		return answers, e.svc.Operator.HashStats().Done - before
	}
	known, kh := run("alice")
	unknown, uh := run("personne")
	if fmt.Sprint(known) != fmt.Sprint(unknown) || kh != uh {
		t.Fatalf("answers differ:\nknown   %v (%d hashes)\nunknown %v (%d hashes)", known, kh, unknown, uh)
	}
	if known[19] != "rate_limited 1s" || known[20] != "rate_limited 2s" || kh != 30 {
		t.Errorf("answers %v (%d hashes): want the 20th failure to wait 1 s, the 21st 2 s, each one checked after its wait", known, kh)
	}
}

// TestAgentAlerts: the agent is told by e-mail, once, when its name's
// logins slow down (the 20th failure in a row) and when its one-time codes
// lock; a name nobody has sends nothing, an agent without an address
// neither.
func TestAgentAlerts(t *testing.T) {
	e := newEnv(t)
	enr, err := e.svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Operator.SetAgentEmail(e.ctx, "cli", "alice", "Alice@Consulat.example"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Operator.SetAgentEmail(e.ctx, "cli", "alice", "pas une adresse"); err == nil {
		t.Error("a malformed address was accepted")
	}
	if _, err := e.svc.Operator.AddAgent(e.ctx, "bob", "agent", "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	alerts := func() (texts []string) {
		for _, m := range e.outbox() {
			if m.Kind == "agent.alert" {
				if m.To != "alice@consulat.example" {
					t.Errorf("an alert to %q", m.To)
				}
				text, _ := mailParts(t, m.Raw)
				texts = append(texts, text)
			}
		}
		return texts
	}
	for _, name := range []string{"personne", "bob", "alice"} {
		for i := range 25 {
			_, err := e.svc.Office.AgentLogin(from(rotating(i)), name, "mauvais mot de passe", "")
			var pe *portal.Error
			if errors.As(err, &pe) && !pe.Until.IsZero() {
				e.clock.Advance(pe.Until.Sub(e.clock.Now()))
			}
		}
	}
	got := alerts()
	if len(got) != 1 || !strings.Contains(got[0], "20 tentatives de connexion de suite ont échoué sous le nom « alice »") {
		t.Fatalf("after 25 failures each for an unknown name, bob and alice: alerts %q, want one to alice", got)
	}
	// Codes: a success first ends the streak, then 10 wrong codes.
	_, err = e.svc.Office.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", enr.RecoveryCodes[0])
	if pe := (*portal.Error)(nil); errors.As(err, &pe) && pe.Code == portal.CodeRateLimited {
		e.clock.Advance(pe.Until.Sub(e.clock.Now()))
		_, err = e.svc.Office.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", enr.RecoveryCodes[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		e.svc.Office.AgentLogin(from(rotating(i)), "alice", "correct horse battery", "000000")
		e.clock.Advance(time.Second)
	}
	got = alerts()
	if len(got) != 2 || !strings.Contains(got[0], "donné 10 fois de suite avec un code à usage unique faux") {
		t.Errorf("after 10 wrong codes: alerts %q, want a second one saying the codes are locked", got)
	}
}
