package service_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// answer writes an error as the voter would read it: its code, the tries
// left and how long a lock lasts.
func answer(e *env, err error) string {
	var pe *portal.Error
	if !errors.As(err, &pe) {
		return fmt.Sprint(err)
	}
	s := string(pe.Code)
	if pe.Remaining > 0 {
		s += fmt.Sprintf(" (%d left)", pe.Remaining)
	}
	if !pe.Until.IsZero() {
		s += " for " + pe.Until.Sub(e.clock.Now()).String()
	}
	return s
}

// TestLoginTriesLeftTellNothing: wrong passwords for an identifier that
// exists and for one that does not, after a password request that named
// it with the wrong NUMIC: the same answers, tries left and lock
// included, and the same number of password checks.
func TestLoginTriesLeftTellNothing(t *testing.T) {
	john := service.DemoRoll[1]
	run := func(identifier string) (answers []string, hashes int64) {
		e := newEnv(t)
		before := e.svc.Operator.HashStats().Done
		if err := e.requestPassword(identifier, john.NUMIC); err != nil {
			t.Fatalf("password request: %v", err)
		}
		for i := range 6 {
			_, err := e.svc.Portal.Login(e.ctx, identifier, fmt.Sprint("mauvais", i))
			answers = append(answers, answer(e, err))
			e.clock.Advance(time.Minute)
		}
		return answers, e.svc.Operator.HashStats().Done - before
	}
	known, kh := run(marie.Identifier)
	unknown, uh := run("AAAAAAAAAAAA")
	want := []string{"bad_login (3 left)", "bad_login (2 left)", "bad_login (1 left)", "locked for 15m0s", "locked for 14m0s", "locked for 13m0s"}
	if fmt.Sprint(known) != fmt.Sprint(want) {
		t.Errorf("known identifier:\n got %q\nwant %q", known, want)
	}
	if fmt.Sprint(known) != fmt.Sprint(unknown) || kh != uh {
		t.Fatalf("answers differ:\nknown   %q (%d hashes)\nunknown %q (%d hashes)", known, kh, unknown, uh)
	}
}

// TestConcurrentUnknownIdentifierGuessesCheckedAtMostFive: 50 wrong
// passwords at once for an identifier nobody has are checked at most 5
// times, as for a voter's, and then answered locked.
func TestConcurrentUnknownIdentifierGuessesCheckedAtMostFive(t *testing.T) {
	e := newEnv(t)
	before := e.svc.Operator.HashStats().Done
	got := guesses(50, func(i int) error {
		_, err := e.svc.Portal.Login(e.ctx, "AAAAAAAAAAAA", fmt.Sprint("mauvais", i))
		return err
	})
	if n := e.svc.Operator.HashStats().Done - before; n > 5 {
		t.Errorf("%d passwords checked under 50 concurrent guesses, want at most 5 (answers %v)", n, got)
	}
	if got[portal.CodeBadLogin] > 5 || got[portal.CodeBadLogin]+got[portal.CodeLocked]+got[portal.CodeUnavailable] != 50 {
		t.Errorf("answers %v: want at most 5 bad_login, the rest locked or unavailable", got)
	}
	if _, err := e.svc.Portal.Login(e.ctx, "AAAAAAAAAAAA", "mauvais"); !errors.Is(err, portal.ErrLocked) {
		t.Errorf("after the guesses: %v, want locked", err)
	}
}

// TestConfirmTriesLeft: on a renewal link, each wrong password or code
// says how many tries are left; the last one locks.
func TestConfirmTriesLeft(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	var got []string
	for range 5 {
		_, err := e.confirm(link, "mauvais")
		got = append(got, answer(e, err))
	}
	want := []string{"wrong_password_or_code (4 left)", "wrong_password_or_code (3 left)", "wrong_password_or_code (2 left)",
		"wrong_password_or_code (1 left)", "locked for 15m0s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("\n got %q\nwant %q", got, want)
	}
}
