package servicetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// SameAddressApprovals approves, all at once, n proposals that move n
// different voters onto one new e-mail address, on a service over db (a
// new, empty store), in each of rounds rounds: one approval applies, the
// other n-1 are refused because the address is now another voter's, and
// one voter has it. No
// constraint can decide it (the roll may give one address to a couple),
// so the store must serialise the approvals (Tx.LockAddress). Run by
// every store's tests.
func SameAddressApprovals(t *testing.T, db service.Store, n, rounds int) {
	t.Helper()
	ctx := context.Background()
	cfg := Config()
	cfg.ApprovalRole = portal.RoleAgent // agents without a second factor: no clock games
	clock := NewClock(Start)
	svc, err := service.New(db, cfg, service.Options{Clock: clock, CodeRand: Sevens{}})
	if err != nil {
		t.Fatal(err)
	}
	var roll strings.Builder
	if _, err := WriteRoll(&roll, n*rounds, 0); err != nil {
		t.Fatal(err)
	}
	if rep, err := svc.ImportRoll(ctx, "test", strings.NewReader(roll.String()), nil); err != nil || rep.Inserted != n*rounds {
		t.Fatalf("roll import: %d inserted, %v", rep.Inserted, err)
	}
	login := func(name string) string {
		t.Helper()
		if _, err := svc.AddAgent(ctx, name, portal.RoleAgent, "correct horse battery", false); err != nil {
			t.Fatal(err)
		}
		s, err := svc.AgentLogin(ctx, name, "correct horse battery", "")
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	proposer := login("proposer")
	approvers := []string{login("approver1"), login("approver2"), login("approver3")}

	// Several rounds, each on its own voters and address: one round alone
	// does not always bring two approvals into the same instant.
	for round := range rounds {
		address := fmt.Sprintf("shared.%d@example.org", round)
		ids := make([]int64, n)
		for i := range n {
			vs, err := svc.FindVoters(ctx, proposer, fmt.Sprintf("%08d", 50_000_000+round*n+i))
			if err != nil || len(vs) != 1 {
				t.Fatalf("voter %d: %v", round*n+i, err)
			}
			c, err := svc.ProposeContactChange(ctx, proposer, portal.ContactChangeRequest{VoterID: vs[0].ID, Email: address,
				Document: portal.DocPassport, Reason: "au guichet"})
			if err != nil {
				t.Fatalf("proposal %d: %v", round*n+i, err)
			}
			ids[i] = c.ID
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		answers := map[string]int{}
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := svc.ApproveContactChange(ctx, approvers[i%len(approvers)], ids[i])
				answer := string(portal.ErrorCode(err))
				if err == nil {
					answer = "approved"
				}
				for _, fe := range portal.FieldErrors(err) {
					answer += " " + string(fe.Field) + ":" + string(fe.Reason)
				}
				mu.Lock()
				answers[answer]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		taken := string(portal.CodeInvalidInput) + " " + string(portal.FieldEmail) + ":" + string(portal.ReasonTaken)
		if answers["approved"] != 1 || answers[taken] != n-1 {
			t.Errorf("round %d: %d approvals onto one address at once answered %v; want 1 approved and %d %q",
				round, n, answers, n-1, taken)
		}
		vs, err := svc.FindVoters(ctx, proposer, address)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 {
			t.Errorf("round %d: %d voters moved onto %s, want 1", round, len(vs), address)
		}
	}
}
