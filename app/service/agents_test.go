package service_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"consulvote/app/portal"
)

// from is a context as the server makes it for a request from addr.
func from(addr string) context.Context { return portal.WithClient(context.Background(), addr) }

// TestAgentUnknownNameAnswersAlike: 12 wrong passwords from one source for
// an existing admin and for a name nobody has: the same answers, the same
// waits, and the same number of password hashes.
func TestAgentUnknownNameAnswersAlike(t *testing.T) {
	run := func(name string) (answers []string, hashes int64) {
		e := newEnv(t)
		if err := e.svc.AddAgent(e.ctx, "alice", "admin", "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		before := e.svc.HashStats().Done
		for range 12 {
			_, err := e.svc.AgentLogin(from("198.51.100.7"), name, "mauvais mot de passe")
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
	if err := e.svc.AddAgent(e.ctx, "alice", "admin", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	attacker, office := from("198.51.100.7"), from("203.0.113.5")
	var blocks []time.Duration
	for range 30 {
		_, err := e.svc.AgentLogin(attacker, "alice", "mauvais mot de passe")
		var pe *portal.Error
		if errors.As(err, &pe) && pe.Code == portal.CodeRateLimited {
			blocks = append(blocks, pe.Until.Sub(e.clock.Now()))
			e.clock.Advance(pe.Until.Sub(e.clock.Now()))
		}
	}
	if len(blocks) < 3 || blocks[0] != time.Minute || blocks[1] <= blocks[0] || blocks[2] <= blocks[1] {
		t.Errorf("the attacker's waits %v: want growing ones from a minute", blocks)
	}
	if _, err := e.svc.AgentLogin(office, "alice", "correct horse battery"); err != nil {
		t.Fatalf("the admin from the office after the attack: %v", err)
	}
	for range 5 {
		e.svc.AgentLogin(attacker, "alice", "mauvais mot de passe")
	}
	before := e.svc.HashStats().Done
	if _, err := e.svc.AgentLogin(attacker, "alice", "correct horse battery"); !errors.Is(err, portal.ErrRateLimited) {
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
	if err := e.svc.AddAgent(e.ctx, "bob", "agent", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	before := e.svc.HashStats().Done
	got := guesses(50, func(i int) error {
		_, err := e.svc.AgentLogin(from("198.51.100.7"), "bob", fmt.Sprint("mauvais", i))
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
