package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
	"consulvote/internal/pgtest"
)

// TestDeskOnPostgres: the help desk's single-use rules through the
// service on PostgreSQL, where writers run at once (READ COMMITTED) rather
// than one after the other as on SQLite: concurrent approvals apply one
// change and the others hear "decided"; concurrent proposals store one;
// concurrent renewals keep the per-NUMIC limit.
func TestDeskOnPostgres(t *testing.T) {
	ctx := context.Background()
	svc, bob, admins, voter := deskOnPostgres(t)
	marie, john := voter(service.DemoRoll[0].NUMIC), voter(service.DemoRoll[1].NUMIC)

	// Many approvals at once: one change.
	c, err := svc.Office.ProposeContactChange(ctx, bob, portal.ContactChangeRequest{VoterID: marie, Email: "marie.pg@example.org",
		Document: portal.DocPassport, Reason: "au guichet"})
	if err != nil {
		t.Fatal(err)
	}
	codes := concurrentCodes(24, func(i int) error {
		_, err := svc.Office.ApproveContactChange(ctx, admins[i%len(admins)], c.ID)
		return err
	})
	if codes[""] != 1 || codes[portal.CodeChangeDecided] != 23 {
		t.Fatalf("concurrent approvals answered %v; want one success and 23 change_decided", codes)
	}
	f, err := svc.Office.VoterFile(ctx, bob, marie)
	if err != nil || f.Email != "marie.pg@example.org" {
		t.Fatalf("after the approvals: %q, %v", f.Email, err)
	}
	notices := 0
	for _, m := range f.Messages {
		if m.Kind == "contact.changed" {
			notices++
		}
	}
	if notices != 2 {
		t.Errorf("%d notices for one e-mail change, want 2", notices)
	}

	// Many proposals at once for one voter: one stored.
	codes = concurrentCodes(16, func(i int) error {
		_, err := svc.Office.ProposeContactChange(ctx, bob, portal.ContactChangeRequest{VoterID: john,
			Mobile: fmt.Sprintf("+4477009001%02d", i), Document: portal.DocIDCard, Reason: "au guichet"})
		return err
	})
	if codes[""] != 1 || codes[portal.CodeChangePending] != 15 {
		t.Fatalf("concurrent proposals answered %v; want one success and 15 change_pending", codes)
	}

	// Many renewals at once for one voter: the per-NUMIC limit holds.
	ines := voter(service.DemoRoll[2].NUMIC)
	codes = concurrentCodes(16, func(i int) error {
		_, err := svc.Office.StartRenewal(ctx, bob, ines, portal.RenewIdentifier, "au téléphone")
		return err
	})
	if max := servicetest.Config().MaxRequests; codes[""] != max || codes[portal.CodeRateLimited] != 16-max {
		t.Fatalf("concurrent renewals answered %v; want %d successes, the rest rate_limited", codes, max)
	}
}

// deskOnPostgres returns a service on a new PostgreSQL database with the
// demonstration roll, an agent's session (bob), three admins' sessions,
// and a lookup of a voter's id by NUMIC.
func deskOnPostgres(t *testing.T) (svc *service.Service, bob string, admins []string, voter func(numic string) int64) {
	t.Helper()
	ctx := context.Background()
	db := openPG(t)
	svc, err := service.New(db, servicetest.Config(), service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Operator.SeedDemoRoll(ctx); err != nil {
		t.Fatal(err)
	}
	login := func(name string, role portal.Role) string {
		enr, err := svc.Operator.AddAgent(ctx, name, role, "correct horse battery", role == portal.RoleAdmin, portal.Scope{Central: true})
		if err != nil {
			t.Fatal(err)
		}
		code := ""
		if enr.Secret != "" {
			code = servicetest.TOTP(t, enr.Secret, time.Now())
		}
		s, err := svc.Office.AgentLogin(ctx, name, "correct horse battery", code)
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	bob = login("bob", portal.RoleAgent)
	for i := range 3 {
		admins = append(admins, login(fmt.Sprintf("admin%d", i), portal.RoleAdmin))
	}
	voter = func(numic string) int64 {
		vs, err := svc.Office.FindVoters(ctx, bob, numic)
		if err != nil || len(vs) != 1 {
			t.Fatalf("find %s: %v", numic, err)
		}
		return vs[0].ID
	}
	return svc, bob, admins, voter
}

// TestContactApprovalsOntoOneAddress: approvals moving different voters
// onto one new address at once apply one move (LockAddress): READ
// COMMITTED alone let each see no other voter with the address.
func TestContactApprovalsOntoOneAddress(t *testing.T) {
	servicetest.SameAddressApprovals(t, openPG(t), 24, 6)
}

// TestResetDuringLogins: no session opened with a second factor outlives
// its reset (the login reads the secret again under the agent's row lock).
func TestResetDuringLogins(t *testing.T) {
	servicetest.ResetDuringLogins(t, openPG(t), 20)
}

// concurrentCodes runs fn n times at once and counts the answers by error
// code ("" for success).
func concurrentCodes(n int, fn func(i int) error) map[portal.Code]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[portal.Code]int{}
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := portal.ErrorCode(fn(i))
			mu.Lock()
			out[c]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func openPG(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
