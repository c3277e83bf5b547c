package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

func TestLockoutAndUnlock(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	// Wrong passwords and wrong codes count alike.
	for i := range 4 {
		req := portal.ConfirmRequest{Link: link, Password: "wrong", CodeID: e.code(), Code: rightCode}
		if i%2 == 1 {
			req.Password, req.Code = marie.Password, wrongCode
		}
		if _, err := e.svc.Portal.ConfirmIdentifierRenewal(e.ctx, req); !errors.Is(err, portal.ErrWrongPasswordOrCode) {
			t.Fatalf("failure %d: %v, want wrong password or code", i+1, err)
		}
	}
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkValid {
		t.Fatalf("link after 4 failures: %v", st.State)
	}
	_, err := e.confirm(link, "wrong")
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Code != portal.CodeLocked {
		t.Fatalf("5th failure: %v, want locked", err)
	}
	until := e.clock.Now().Add(15 * time.Minute)
	if !pe.Until.Equal(until) {
		t.Errorf("locked until %v, want %v", pe.Until, until)
	}
	// The link died with the lock.
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkRevoked {
		t.Errorf("link after lock: %v, want revoked", st.State)
	}
	// Locked: even the right password and the login are refused.
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); !errors.Is(err, portal.ErrLocked) {
		t.Errorf("login while locked: %v", err)
	}
	e.clock.Advance(15*time.Minute - time.Nanosecond)
	newLink := e.requestLink() // asking for a link is allowed, confirming is not
	if _, err := e.confirm(newLink, marie.Password); !errors.Is(err, portal.ErrLocked) {
		t.Errorf("confirm 1 ns before unlock: %v", err)
	}
	e.clock.Advance(time.Nanosecond)
	if _, err := e.confirm(newLink, marie.Password); err != nil {
		t.Fatalf("confirm after unlock: %v", err)
	}
	if n := e.count("audit", "action = 'voter.locked'"); n != 1 {
		t.Errorf("%d lock audit entries", n)
	}
}

func TestLoginFailuresLock(t *testing.T) {
	e := newEnv(t)
	for i := range 4 {
		if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, fmt.Sprint("wrong", i)); !errors.Is(err, portal.ErrBadLogin) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	// A success clears the count.
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		e.svc.Portal.Login(e.ctx, marie.Identifier, fmt.Sprint("wrong", i))
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, "wrong"); !errors.Is(err, portal.ErrLocked) {
		t.Fatalf("5th failure in a row: %v, want locked", err)
	}
}

func TestExpiredCodeIsNotAFailure(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	for range 6 {
		_, err := e.svc.Portal.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
			Link: link, Password: "wrong", CodeID: "feedfacefeedface", Code: rightCode})
		if !errors.Is(err, portal.ErrSecurityCodeExpired) {
			t.Fatalf("unknown code: %v", err)
		}
	}
	if _, err := e.confirm(link, marie.Password); err != nil {
		t.Fatalf("expired codes counted as failures: %v", err)
	}
}

func TestConcurrentConfirm(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	const n = 32
	codes := make([]string, n)
	for i := range codes {
		codes[i] = e.code()
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]error, n)
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := e.svc.Portal.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
				Link: link, Password: marie.Password, CodeID: codes[i], Code: rightCode})
			results[i], ids[i] = err, r.Identifier
		})
	}
	close(start)
	wg.Wait()

	var winner string
	for i, err := range results {
		switch {
		case err == nil:
			if winner != "" {
				t.Fatalf("two confirmations succeeded: %q and %q", winner, ids[i])
			}
			winner = ids[i]
		// Past the 5 attempts of the window, the others are not checked
		// while those run: "try again shortly".
		case !errors.Is(err, portal.ErrLinkUsed) && !errors.Is(err, portal.ErrUnavailable):
			t.Errorf("goroutine %d: %v, want link used (or unavailable)", i, err)
		}
	}
	if winner == "" {
		t.Fatal("no confirmation succeeded")
	}
	if _, err := e.svc.Portal.Login(e.ctx, winner, marie.Password); err != nil {
		t.Errorf("the winning identifier does not log in: %v", err)
	}
	if got := e.count("audit", "action = 'identifier.renewed'"); got != 1 {
		t.Errorf("%d renewals audited, want 1", got)
	}
	if got := e.count("outbox", "kind = 'identifier.changed'"); got != 1 {
		t.Errorf("%d notices queued, want 1", got)
	}
	if got := e.count("links", "used_at IS NOT NULL"); got != 1 {
		t.Errorf("%d links used, want 1", got)
	}
	var check string
	if err := e.raw.QueryRowContext(e.ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}

// faultyStore passes everything to a real store but fails one Tx method.
type faultyStore struct {
	service.Store
	failing string
}

var errInjected = errors.New("injected failure")

func (f faultyStore) Update(ctx context.Context, fn func(service.Tx) error) error {
	return f.Store.Update(ctx, func(tx service.Tx) error { return fn(faultyTx{tx, f.failing}) })
}

type faultyTx struct {
	service.Tx
	failing string
}

func (t faultyTx) Enqueue(m service.Message) (int64, error) {
	if t.failing == "Enqueue" {
		return 0, errInjected
	}
	return t.Tx.Enqueue(m)
}

func (t faultyTx) SetIdentifier(id int64, hash []byte, at time.Time) error {
	if t.failing == "SetIdentifier" {
		return errInjected
	}
	return t.Tx.SetIdentifier(id, hash, at)
}

func TestRequestAtomic(t *testing.T) {
	e := newEnv(t)
	old := e.requestLink() // a pending link that a failed request must not replace
	faulty := e.service(faultyStore{e.db, "Enqueue"})
	c, _ := faulty.Portal.NewSecurityCode(e.ctx)
	err := faulty.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
		NUMIC: marie.NUMIC, Email: marie.Email, CodeID: c.ID, Code: rightCode})
	if !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	if n := e.count("links", "1"); n != 1 {
		t.Errorf("%d links: the failed request left its token behind", n)
	}
	if st, _ := e.svc.Portal.InspectLink(e.ctx, old); st.State != portal.LinkValid {
		t.Errorf("older link is %v after a failed request", st.State)
	}
	if n := e.count("outbox", "1"); n != 1 {
		t.Errorf("%d messages", n)
	}
}

func TestConfirmAtomic(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	faulty := e.service(faultyStore{e.db, "SetIdentifier"})
	c, _ := faulty.Portal.NewSecurityCode(e.ctx)
	_, err := faulty.Portal.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
		Link: link, Password: marie.Password, CodeID: c.ID, Code: rightCode})
	if !errors.Is(err, errInjected) {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkValid {
		t.Fatalf("link is %v after a failed confirm, want still valid", st.State)
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); err != nil {
		t.Fatalf("old identifier stopped working after a failed confirm: %v", err)
	}
	r, err := e.confirm(link, marie.Password)
	if err != nil || r.Identifier == "" {
		t.Fatalf("retry after the failure: %v", err)
	}
}

// TestNoSecretsStored walks the whole flow and then looks for every secret
// it saw in the audit log, the logs, and the raw bytes of the database.
func TestNoSecretsStored(t *testing.T) {
	e := newEnv(t)
	e.request("99999999", "nobody@example.org")
	link := e.requestLink()
	e.confirm(link, "wrong-password-123")
	r, err := e.confirm(link, marie.Password)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Portal.Login(e.ctx, r.Identifier, marie.Password)
	e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password) // the old one, now refused
	token := link[strings.LastIndex(link, "=")+1:]
	secrets := map[string]string{
		"new identifier": r.Identifier, "old identifier": marie.Identifier,
		"password": marie.Password, "wrong password": "wrong-password-123", "link token": token,
		"unknown NUMIC": "99999999",
	}

	var audit strings.Builder
	rows, err := e.raw.QueryContext(e.ctx, `SELECT actor || ' ' || action || ' ' || detail FROM audit`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		rows.Scan(&line)
		audit.WriteString(line + "\n")
	}
	rows.Close()
	if e.count("audit", "1") < 6 {
		t.Fatalf("audit log too short to mean anything:\n%s", audit.String())
	}
	if e.logs.Len() == 0 {
		t.Fatal("no logs captured")
	}

	// Checkpoint the WAL so the database file holds everything.
	e.exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	e.db.Close()
	file := readFile(t, e.path)
	for name, s := range secrets {
		if strings.Contains(audit.String(), s) {
			t.Errorf("%s is in the audit log", name)
		}
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("%s is in the logs", name)
		}
		if bytes.Contains(file, []byte(s)) && name != "unknown NUMIC" {
			t.Errorf("%s is in clear in the database file", name)
		}
	}
	// The outbox holds the link, sealed: not even "jeton" shows.
	if bytes.Contains(file, []byte("jeton=")) {
		t.Error("a renewal link is in clear in the database file")
	}
}

// TestRequestFloor checks that a request, matched or not, does not answer
// before the floor. Sleeping gives a lower bound, so this cannot flake.
func TestRequestFloor(t *testing.T) {
	e := newEnv(t)
	e.cfg.RequestFloor = 30 * time.Millisecond
	e.svc = e.service(e.db)
	for _, tc := range []struct{ numic, email string }{
		{marie.NUMIC, marie.Email}, {"99999999", marie.Email}, {marie.NUMIC, "x@example.org"},
	} {
		code := e.code()
		start := time.Now()
		err := e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
			NUMIC: tc.numic, Email: tc.email, CodeID: code, Code: rightCode})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < e.cfg.RequestFloor {
			t.Errorf("%s/%s answered after %v, under the %v floor", tc.numic, tc.email, d, e.cfg.RequestFloor)
		}
	}
	// A caller that gives up is not held until the floor.
	e.cfg.RequestFloor = 10 * time.Second
	e.svc = e.service(e.db)
	code := e.code()
	ctx, cancel := context.WithCancel(e.ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := e.svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
		NUMIC: "88888888", Email: marie.Email, CodeID: code, Code: rightCode})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("canceled request held for %v", d)
	}
}
