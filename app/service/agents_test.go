package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
)

// from is a context as the server makes it for a request from addr.
func from(addr string) context.Context { return portal.WithClient(context.Background(), addr) }

// TestAgentUnknownNameAnswersAlike: 12 wrong passwords from one source for
// an existing admin and for a name nobody has: the same answers, the same
// waits, and the same number of password hashes.
func TestAgentUnknownNameAnswersAlike(t *testing.T) {
	run := func(name string) (answers []string, hashes int64) {
		e := newEnv(t)
		if _, err := e.svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true}); err != nil {
			t.Fatal(err)
		}
		before := e.svc.Operator.HashStats().Done
		for range 12 {
			_, err := e.svc.Office.AgentLogin(from("198.51.100.7"), name, "mauvais mot de passe", "")
			var pe *portal.Error
			errors.As(err, &pe)
			var wait time.Duration
			if pe != nil && !pe.Until.IsZero() {
				wait = pe.Until.Sub(e.clock.Now())
			}
			answers = append(answers, fmt.Sprint(portal.ErrorCode(err), " ", wait))
			e.clock.Advance(time.Minute)
		}
		return answers, e.svc.Operator.HashStats().Done - before
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
	enr, err := e.svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true})
	if err != nil {
		t.Fatal(err)
	}
	attacker, office := from("198.51.100.7"), from("203.0.113.5")
	var blocks []time.Duration
	for range 30 {
		_, err := e.svc.Office.AgentLogin(attacker, "alice", "mauvais mot de passe", "")
		var pe *portal.Error
		if errors.As(err, &pe) && pe.Code == portal.CodeRateLimited {
			blocks = append(blocks, pe.Until.Sub(e.clock.Now()))
			e.clock.Advance(pe.Until.Sub(e.clock.Now()))
		}
	}
	if len(blocks) < 3 || blocks[0] != time.Minute || blocks[1] <= blocks[0] || blocks[2] <= blocks[1] {
		t.Errorf("the attacker's waits %v: want growing ones from a minute", blocks)
	}
	if _, err := e.svc.Office.AgentLogin(office, "alice", "correct horse battery", servicetest.TOTP(t, enr.Secret, e.clock.Now())); err != nil {
		t.Fatalf("the admin from the office after the attack: %v", err)
	}
	for range 5 {
		e.svc.Office.AgentLogin(attacker, "alice", "mauvais mot de passe", "")
	}
	before := e.svc.Operator.HashStats().Done
	if _, err := e.svc.Office.AgentLogin(attacker, "alice", "correct horse battery", servicetest.TOTP(t, enr.Secret, e.clock.Now())); !errors.Is(err, portal.ErrRateLimited) {
		t.Errorf("right password from the blocked source: %v, want rate_limited", err)
	}
	if n := e.svc.Operator.HashStats().Done - before; n != 0 {
		t.Errorf("%d hashes for a blocked source", n)
	}
}

// TestAgentConcurrentGuessesEvaluatedAtMostFive: 50 concurrent wrong
// passwords for one agent from one source: at most 5 checked.
func TestAgentConcurrentGuessesEvaluatedAtMostFive(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Operator.AddAgent(e.ctx, "bob", "agent", "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	before := e.svc.Operator.HashStats().Done
	got := guesses(50, func(i int) error {
		_, err := e.svc.Office.AgentLogin(from("198.51.100.7"), "bob", fmt.Sprint("mauvais", i), "")
		return err
	})
	n := e.svc.Operator.HashStats().Done - before
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
	if _, err := e.svc.Operator.AddAgent(e.ctx, "root", "admin", "correct horse battery", false, portal.Scope{Central: true}); err == nil {
		t.Fatal("an admin without second factor was added")
	}
	enr, err := e.svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true})
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
		_, err := e.svc.Office.AgentLogin(from("203.0.113.5"), "alice", "correct horse battery", code)
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

// TestResetSecondFactor: an agent who lost the device gets a new second
// factor from the command line: a new secret and recovery codes, shown
// once; the old secret, its recovery codes and the agent's sessions stop
// working; the password stays; the audit log says who, not what.
func TestResetSecondFactor(t *testing.T) {
	e := newEnv(t)
	old, err := e.svc.Operator.AddAgent(e.ctx, "alice", "admin", "correct horse battery", true, portal.Scope{Central: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Operator.AddAgent(e.ctx, "bob", "agent", "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	login := func(name, code string) (portal.AgentSession, error) {
		return e.svc.Office.AgentLogin(from("203.0.113.5"), name, "correct horse battery", code)
	}
	s, err := login("alice", servicetest.TOTP(t, old.Secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := login("bob", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	enr, err := e.svc.Operator.ResetSecondFactor(e.ctx, "cli", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if enr.Secret == "" || enr.Secret == old.Secret || len(enr.RecoveryCodes) != 10 || !strings.HasPrefix(enr.URL, "otpauth://totp/consulvote:alice") {
		t.Fatalf("new enrolment %+v", enr)
	}
	for _, c := range enr.RecoveryCodes {
		if slices.Contains(old.RecoveryCodes, c) {
			t.Fatalf("recovery code %s given again", c)
		}
	}
	if _, err := e.svc.Office.PendingContactChanges(e.ctx, s.Token); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("alice's session after the reset: %v, want unauthorized", err)
	}
	if _, err := e.svc.Office.PendingContactChanges(e.ctx, bobs.Token); err != nil {
		t.Errorf("bob's session ended with alice's reset: %v", err)
	}
	for what, code := range map[string]string{"the old secret's code": servicetest.TOTP(t, old.Secret, e.clock.Now()),
		"an old recovery code": old.RecoveryCodes[0]} {
		if _, err := login("alice", code); !errors.Is(err, portal.ErrBadLogin) {
			t.Errorf("%s after the reset: %v, want bad_login", what, err)
		}
	}
	if _, err := login("alice", servicetest.TOTP(t, enr.Secret, e.clock.Now())); err != nil {
		t.Errorf("the new secret's code: %v", err)
	}
	if _, err := login("alice", enr.RecoveryCodes[9]); err != nil {
		t.Errorf("a new recovery code: %v", err)
	}
	if n := e.count("agents", "name = 'alice' AND instr(totp_secret, ?) = 0", enr.Secret); n != 1 {
		t.Error("the new secret is not stored sealed")
	}

	// An agent without a second factor gets one, and needs it from then on.
	benr, err := e.svc.Operator.ResetSecondFactor(e.ctx, "cli", " bob ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := login("bob", ""); !errors.Is(err, portal.ErrBadLogin) {
		t.Errorf("bob without a code after his enrolment: %v", err)
	}
	if _, err := login("bob", servicetest.TOTP(t, benr.Secret, e.clock.Now())); err != nil {
		t.Errorf("bob with his new code: %v", err)
	}

	// Nobody by that name: an error, nothing written.
	before := e.count("audit", "1 = 1")
	if _, err := e.svc.Operator.ResetSecondFactor(e.ctx, "cli", "carol"); err == nil || !strings.Contains(err.Error(), `"carol": no such agent`) {
		t.Errorf("reset of an unknown agent: %v", err)
	}
	if e.count("audit", "1 = 1") != before {
		t.Error("a refused reset was audited or wrote")
	}

	rows := e.audited("agent.second_factor_reset")
	if len(rows) != 2 {
		t.Fatalf("%d resets audited, want 2", len(rows))
	}
	if rows[0].actor != "cli" || rows[0].detail != `{"agent":"alice","had_second_factor":"true","role":"admin","sessions_ended":"1"}` ||
		rows[1].detail != `{"agent":"bob","had_second_factor":"false","role":"agent","sessions_ended":"1"}` {
		t.Errorf("audited %+v", rows)
	}
	for _, r := range rows {
		for _, secret := range append([]string{enr.Secret, benr.Secret, old.Secret}, enr.RecoveryCodes...) {
			if strings.Contains(r.detail, secret) {
				t.Errorf("the audit log holds a secret: %s", r.detail)
			}
		}
	}
}

// TestResetDuringLogins: no session opened with a second factor outlives
// its reset, on SQLite (PostgreSQL: app/sqlstore).
func TestResetDuringLogins(t *testing.T) {
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	servicetest.ResetDuringLogins(t, db, 20)
}
