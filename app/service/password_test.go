package service_test

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

func (e *env) requestPassword(identifier, numic string) error {
	return e.svc.Portal.RequestPasswordRenewal(e.ctx, portal.PasswordRenewalRequest{
		Identifier: identifier, NUMIC: numic, CodeID: e.code(), Code: rightCode})
}

var smsPassword = regexp.MustCompile(`\b[A-Za-z0-9]{12}\b`)

// lastSMS returns the newest SMS and the password it carries.
func (e *env) lastSMS() (servicetest.Message, string) {
	e.t.Helper()
	for _, m := range e.outbox() {
		if m.Channel == service.ChannelSMS {
			return m, smsPassword.FindString(string(m.Raw))
		}
	}
	e.t.Fatal("no SMS in the outbox")
	return servicetest.Message{}, ""
}

func TestPasswordRenewal(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); err != nil {
		t.Fatal(err)
	}
	if err := e.requestPassword(" "+marie.Identifier+" ", "000 123 45"); err != nil {
		t.Fatal(err)
	}
	sms, password := e.lastSMS()
	if sms.To != marie.Mobile || sms.Kind != "password.sms" {
		t.Errorf("SMS to %q (%s), want %q", sms.To, sms.Kind, marie.Mobile)
	}
	if !strings.Contains(string(sms.Raw), "votre nouveau mot de passe") || len(password) != 12 || password == marie.Password {
		t.Fatalf("SMS text %q", sms.Raw)
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); !errors.Is(err, portal.ErrBadLogin) {
		t.Errorf("old password: %v, want bad login", err)
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, password); err != nil {
		t.Fatalf("new password: %v", err)
	}
	// The renewal ended the session opened before it: only the new one is left.
	if n := e.count("sessions", "1"); n != 1 {
		t.Errorf("%d sessions, want only the one opened after the renewal", n)
	}
	var notice *servicetest.Message
	for _, m := range e.outbox() {
		if m.Kind == "password.changed" {
			notice = &m
		}
	}
	if notice == nil || notice.To != marie.Email || strings.Contains(string(notice.Raw), password) {
		t.Fatalf("notice e-mail missing or holding the password: %+v", notice)
	}
	if n := e.count("audit", "action = 'password.renewed'"); n != 1 {
		t.Errorf("%d password renewals audited", n)
	}
	// The SMS is sealed in the database like the e-mails.
	e.exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	if strings.Contains(string(readFile(t, e.path)), password) {
		t.Error("the new password is in clear in the database file")
	}
	// English voters get an English SMS.
	john := service.DemoRoll[1]
	if err := e.requestPassword(john.Identifier, john.NUMIC); err != nil {
		t.Fatal(err)
	}
	if sms, _ := e.lastSMS(); !strings.Contains(string(sms.Raw), "your new password") || sms.To != john.Mobile {
		t.Errorf("English SMS: %q to %s", sms.Raw, sms.To)
	}
}

func TestPasswordNoEnumeration(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, identifier, numic string }{
		{"unknown identifier", "AAAAAAAAAAAA", marie.NUMIC},
		{"wrong NUMIC", marie.Identifier, "99999999"},
		{"another voter's NUMIC", marie.Identifier, service.DemoRoll[1].NUMIC},
	} {
		if err := e.requestPassword(tc.identifier, tc.numic); err != nil {
			t.Errorf("%s: %v, want the nil of a match", tc.name, err)
		}
	}
	if n := e.count("outbox", "1"); n != 0 {
		t.Fatalf("%d messages for non-matching requests", n)
	}
	if err := e.requestPassword(marie.Identifier, marie.NUMIC); err != nil {
		t.Fatalf("match: %v", err)
	}
	if n := e.count("outbox", "channel = 'sms'"); n != 1 {
		t.Fatalf("%d SMS after a match", n)
	}
}

func TestPasswordWrongNUMICLocks(t *testing.T) {
	e := newEnv(t)
	// Each guess is another NUMIC, so the per-NUMIC rate limit does not
	// stop them: the per-voter failure count does.
	for i := range 5 {
		if err := e.requestPassword(marie.Identifier, "9999999"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count("audit", "action = 'voter.locked'"); n != 1 {
		t.Fatalf("%d locks after 5 wrong NUMICs", n)
	}
	// Answered like any request; the voter learns of the lock by e-mail.
	if err := e.requestPassword(marie.Identifier, marie.NUMIC); err != nil {
		t.Fatalf("the right NUMIC while locked: %v, want the neutral answer", err)
	}
	if text, n := e.refusalMail("password"); n != 1 || !strings.Contains(text, "bloqué par sécurité jusqu'au") {
		t.Fatalf("%d refusal e-mails while locked: %q", n, text)
	}
	if n := e.count("outbox", "channel = 'sms'"); n != 0 {
		t.Fatalf("%d SMS while locked", n)
	}
	e.clock.Advance(15 * time.Minute)
	if err := e.requestPassword(marie.Identifier, marie.NUMIC); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestPasswordRequestBadInput(t *testing.T) {
	e := newEnv(t)
	err := e.svc.Portal.RequestPasswordRenewal(e.ctx, portal.PasswordRenewalRequest{NUMIC: "12a", CodeID: e.code(), Code: "77"})
	want := []portal.FieldError{fe(portal.FieldIdentifier, portal.ReasonRequired), fe(portal.FieldNUMIC, portal.ReasonFormat), fe(portal.FieldCode, portal.ReasonFormat)}
	if got := portal.FieldErrors(err); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("fields %v, want %v", got, want)
	}
	err = e.svc.Portal.RequestPasswordRenewal(e.ctx, portal.PasswordRenewalRequest{Identifier: marie.Identifier, NUMIC: marie.NUMIC, CodeID: e.code(), Code: wrongCode})
	if !errors.Is(err, portal.ErrSecurityCodeWrong) {
		t.Fatalf("wrong code: %v", err)
	}
}

// TestNotBothAtOnce applies the rule from both sides, with the real flows,
// at the exact end of the cool-down.
func TestNotBothAtOnce(t *testing.T) {
	const cooldown = 24 * time.Hour
	t.Run("identifier after password", func(t *testing.T) {
		e := newEnv(t)
		renewed := e.clock.Now()
		if err := e.requestPassword(marie.Identifier, marie.NUMIC); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(cooldown - time.Nanosecond)
		if err := e.request(marie.NUMIC, marie.Email); err != nil {
			t.Fatalf("1 ns before the end: %v, want the neutral answer", err)
		}
		if text, n := e.refusalMail("identifier"); n != 1 || !strings.Contains(text, "à partir du "+mailTime(renewed.Add(cooldown))) {
			t.Fatalf("1 ns before the end: %d refusal e-mails, %q; want one saying until %v", n, text, renewed.Add(cooldown))
		}
		if n := e.count("links", "1"); n != 0 {
			t.Error("a link was made despite the conflict")
		}
		e.clock.Advance(time.Nanosecond)
		if err := e.request(marie.NUMIC, marie.Email); err != nil {
			t.Fatalf("at the end of the cool-down: %v", err)
		}
	})
	t.Run("password after identifier", func(t *testing.T) {
		e := newEnv(t)
		r, err := e.confirm(e.requestLink(), marie.Password)
		if err != nil {
			t.Fatal(err)
		}
		renewed := e.clock.Now()
		e.clock.Advance(cooldown - time.Nanosecond)
		if err := e.requestPassword(r.Identifier, marie.NUMIC); err != nil {
			t.Fatalf("1 ns before the end: %v, want the neutral answer", err)
		}
		if text, n := e.refusalMail("password"); n != 1 || !strings.Contains(text, "à partir du "+mailTime(renewed.Add(cooldown))) {
			t.Fatalf("1 ns before the end: %d refusal e-mails, %q; want one saying until %v", n, text, renewed.Add(cooldown))
		}
		if n := e.count("audit", "action = 'password.request.refused'"); n != 1 {
			t.Error("the refusal is not in the audit log")
		}
		e.clock.Advance(time.Nanosecond)
		if err := e.requestPassword(r.Identifier, marie.NUMIC); err != nil {
			t.Fatalf("at the end of the cool-down: %v", err)
		}
	})
	t.Run("password while an identifier link is pending", func(t *testing.T) {
		e := newEnv(t)
		e.requestLink()
		if err := e.requestPassword(marie.Identifier, marie.NUMIC); err != nil {
			t.Fatalf("with a pending link: %v, want the neutral answer", err)
		}
		if text, n := e.refusalMail("password"); n != 1 || !strings.Contains(text, "une fois ce renouvellement terminé") {
			t.Fatalf("with a pending link: %d refusal e-mails, %q", n, text)
		}
		e.clock.Advance(time.Hour) // the link expires: nothing is pending, nothing was renewed
		if err := e.requestPassword(marie.Identifier, marie.NUMIC); err != nil {
			t.Fatalf("after the link expired: %v", err)
		}
	})
}

// TestNotBothRace races an identifier request and a password request for
// the same voter, many times: exactly one may win each round, and the two
// credentials never both change inside one cool-down.
func TestNotBothRace(t *testing.T) {
	e := newEnv(t)
	identifier := marie.Identifier
	refusedID, refusedPW := 0, 0
	for round := range 20 {
		e.clock.Advance(25 * time.Hour) // out of the last round's cool-down and rate limits
		idCode, pwCode := e.code(), e.code()
		var wg sync.WaitGroup
		var idErr, pwErr error
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			idErr = e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
				NUMIC: marie.NUMIC, Email: marie.Email, CodeID: idCode, Code: rightCode})
		})
		wg.Go(func() {
			<-start
			pwErr = e.svc.Portal.RequestPasswordRenewal(e.ctx, portal.PasswordRenewalRequest{
				Identifier: identifier, NUMIC: marie.NUMIC, CodeID: pwCode, Code: rightCode})
		})
		close(start)
		wg.Wait()
		if idErr != nil || pwErr != nil {
			t.Fatalf("round %d: identifier %v, password %v: want the neutral answer to both", round, idErr, pwErr)
		}
		// Who won shows in the audit log: the loser's request was refused.
		idRefused := e.count("audit", "action = 'identifier.request.refused'") > refusedID
		pwRefused := e.count("audit", "action = 'password.request.refused'") > refusedPW
		refusedID, refusedPW = e.count("audit", "action = 'identifier.request.refused'"), e.count("audit", "action = 'password.request.refused'")
		switch {
		case !idRefused && pwRefused:
			// The identifier won: finish it; the password must stay refused.
			r, err := e.confirm(e.lastLink(), currentPassword(e))
			if err != nil {
				t.Fatalf("round %d: confirm: %v", round, err)
			}
			identifier = r.Identifier
			renewed := e.count("audit", "action = 'password.renewed'")
			if err := e.requestPassword(identifier, marie.NUMIC); err != nil || e.count("audit", "action = 'password.renewed'") != renewed {
				t.Fatalf("round %d: password renewed right after the identifier: %v", round, err)
			}
			refusedPW++
		case idRefused && !pwRefused:
			links := e.count("links", "1")
			if err := e.request(marie.NUMIC, marie.Email); err != nil || e.count("links", "1") != links {
				t.Fatalf("round %d: identifier requested right after the password: %v", round, err)
			}
			refusedID++
		default:
			t.Fatalf("round %d: identifier refused %v, password refused %v: want exactly one refused", round, idRefused, pwRefused)
		}
	}
	// Over all rounds, no two renewals of different credentials within a cool-down.
	rows, err := e.raw.QueryContext(e.ctx, `SELECT action, at FROM audit WHERE action IN ('identifier.renewed', 'password.renewed') ORDER BY at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lastAction string
	var lastAt int64
	n := 0
	for rows.Next() {
		var action string
		var at int64
		rows.Scan(&action, &at)
		if lastAction != "" && action != lastAction && time.Duration(at-lastAt) < 24*time.Hour {
			t.Errorf("%s then %s within %v", lastAction, action, time.Duration(at-lastAt))
		}
		lastAction, lastAt = action, at
		n++
	}
	if n < 20 {
		t.Errorf("only %d renewals in 20 rounds", n)
	}
}

// currentPassword is marie's password: the demo one, or the last one sent
// by SMS.
func currentPassword(e *env) string {
	for _, m := range e.outbox() {
		if m.Channel == service.ChannelSMS {
			return smsPassword.FindString(string(m.Raw))
		}
	}
	return marie.Password
}
