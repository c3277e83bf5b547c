package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service/servicetest"
)

// from is a context as the server makes it for a request from addr.
func from(addr string) context.Context { return portal.WithClient(context.Background(), addr) }

// TestAgentUnknownNameAnswersAlike: 12 wrong passwords from one source for
// an existing admin and for a name nobody has: the same answers, the same
// waits, and the same number of password hashes.
func TestAgentUnknownNameAnswersAlike(t *testing.T) {
	run := func(name string) (answers []string, hashes int64) {
		e := newEnv(t)
		if _, err := e.svc.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true); err != nil {
			t.Fatal(err)
		}
		before := e.svc.HashStats().Done
		for range 12 {
			_, err := e.svc.AgentLogin(from("198.51.100.7"), name, "mauvais mot de passe", "")
			var pe *portal.Error
			errors.As(err, &pe)
			var wait time.Duration
			if pe != nil && !pe.Until.IsZero() {
				wait = pe.Until.Sub(e.clock.Now())
			}
			answers = append(answers, fmt.Sprint(portal.ErrorCode(err), " ", wait))
			e.clock.Advance(time.Minute)
		}
		return answers, e.svc.HashStats().Done - before
	}
	known, kh := run("alice")
	unknown, uh := run("personne")
	if fmt.Sprint(known) != fmt.Sprint(unknown) || kh != uh {
		t.Fatalf("answers differ:\nknown   %v (%d hashes)\nunknown %v (%d hashes)", known, kh, unknown, uh)
	}
	if known[4] != "rate_limited 1m0s" {
		t.Errorf("5th failure answered %q, want rate_limited for a minute", known[4])
	}
}

// TestAgentGuessingCannotLockOut: an outsider's 30 wrong passwords for the
// admin from one source block that source, with growing waits, and do not
// lock the admin out from elsewhere; the right password from the blocked
// source is not even checked.
func TestAgentGuessingCannotLockOut(t *testing.T) {
	e := newEnv(t)
	enr, err := e.svc.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true)
	if err != nil {
		t.Fatal(err)
	}
	attacker, office := from("198.51.100.7"), from("203.0.113.5")
	var blocks []time.Duration
	for range 30 {
		_, err := e.svc.AgentLogin(attacker, "alice", "mauvais mot de passe", "")
		var pe *portal.Error
		if errors.As(err, &pe) && pe.Code == portal.CodeRateLimited {
			blocks = append(blocks, pe.Until.Sub(e.clock.Now()))
			e.clock.Advance(pe.Until.Sub(e.clock.Now()))
		}
	}
	if len(blocks) < 3 || blocks[0] != time.Minute || blocks[1] <= blocks[0] || blocks[2] <= blocks[1] {
		t.Errorf("the attacker's waits %v: want growing ones from a minute", blocks)
	}
	if _, err := e.svc.AgentLogin(office, "alice", "correct horse battery", servicetest.TOTP(t, enr.Secret, e.clock.Now())); err != nil {
		t.Fatalf("the admin from the office after the attack: %v", err)
	}
	for range 5 {
		e.svc.AgentLogin(attacker, "alice", "mauvais mot de passe", "")
	}
	before := e.svc.HashStats().Done
	if _, err := e.svc.AgentLogin(attacker, "alice", "correct horse battery", servicetest.TOTP(t, enr.Secret, e.clock.Now())); !errors.Is(err, portal.ErrRateLimited) {
		t.Errorf("right password from the blocked source: %v, want rate_limited", err)
	}
	if n := e.svc.HashStats().Done - before; n != 0 {
		t.Errorf("%d hashes for a blocked source", n)
	}
}

// TestAgentConcurrentGuessesEvaluatedAtMostFive: 50 concurrent wrong
// passwords for one agent from one source: at most 5 checked.
func TestAgentConcurrentGuessesEvaluatedAtMostFive(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.AddAgent(e.ctx, "bob", "agent", "correct horse battery", false); err != nil {
		t.Fatal(err)
	}
	before := e.svc.HashStats().Done
	got := guesses(50, func(i int) error {
		_, err := e.svc.AgentLogin(from("198.51.100.7"), "bob", fmt.Sprint("mauvais", i), "")
		return err
	})
	n := e.svc.HashStats().Done - before
	t.Logf("agent login: %d of 50 concurrent wrong passwords checked; answers %v", n, got)
	if n > 5 {
		t.Errorf("%d agent passwords checked under 50 concurrent guesses, want at most 5 (answers %v)", n, got)
	}
	if got[portal.CodeBadLogin] > 5 {
		t.Errorf("answers %v", got)
	}
}

// TestAgentSecondFactor: an admin needs its TOTP code or a recovery code
// besides the password; a code serves once, a recovery code once; a
// missing or wrong code is answered as a wrong password; an admin cannot
// be made without a second factor.
func TestAgentSecondFactor(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.AddAgent(e.ctx, "root", "admin", "correct horse battery", false); err == nil {
		t.Fatal("an admin without second factor was added")
	}
	enr, err := e.svc.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(enr.RecoveryCodes) != 10 || !strings.HasPrefix(enr.URL, "otpauth://totp/") || enr.Secret == "" {
		t.Fatalf("enrollment %+v", enr)
	}
	if n := e.count("agents", "totp_secret IS NOT NULL AND instr(totp_secret, ?) = 0", enr.Secret); n != 1 {
		t.Error("the TOTP secret is not stored sealed")
	}
	login := func(code string) error {
		_, err := e.svc.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", code)
		return err
	}
	if err := login(""); !errors.Is(err, portal.ErrBadLogin) {
		t.Fatalf("no code: %v, want bad_login", err)
	}
	code := servicetest.TOTP(t, enr.Secret, e.clock.Now())
	if err := login(code); err != nil {
		t.Fatalf("the right code: %v", err)
	}
	if err := login(code); !errors.Is(err, portal.ErrBadLogin) {
		t.Fatalf("the same code again: %v, want bad_login", err)
	}
	// One step of clock drift either side is accepted, once.
	e.clock.Advance(30 * time.Second)
	if err := login(servicetest.TOTP(t, enr.Secret, e.clock.Now().Add(30*time.Second))); err != nil {
		t.Fatalf("the next step's code: %v", err)
	}
	e.clock.Advance(5 * time.Minute)
	if err := login(servicetest.TOTP(t, enr.Secret, e.clock.Now().Add(-2*time.Minute))); !errors.Is(err, portal.ErrBadLogin) {
		t.Fatalf("a code two minutes old: %v", err)
	}
	if err := login(enr.RecoveryCodes[3]); err != nil {
		t.Fatalf("a recovery code: %v", err)
	}
	if err := login(strings.ReplaceAll(enr.RecoveryCodes[3], "-", "")); !errors.Is(err, portal.ErrBadLogin) {
		t.Fatalf("the recovery code again: %v", err)
	}
	if n := e.count("audit", "action = 'agent.login.failed' AND detail LIKE '%\"why\":\"second_factor\"%'"); n < 3 {
		t.Errorf("%d failures of the second factor audited", n)
	}
}
