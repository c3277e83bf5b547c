package servicetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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
	svc, proposer, approvers := deskAgents(t, db, n*rounds)
	// Several rounds, each on its own voters and address: one round alone
	// does not always bring two approvals into the same instant.
	for round := range rounds {
		address := fmt.Sprintf("shared.%d@example.org", round)
		ids := make([]int64, n)
		for i := range n {
			vs, err := svc.Office.FindVoters(ctx, proposer, fmt.Sprintf("%08d", 50_000_000+round*n+i))
			if err != nil || len(vs) != 1 {
				t.Fatalf("voter %d: %v", round*n+i, err)
			}
			c, err := svc.Office.ProposeContactChange(ctx, proposer, portal.ContactChangeRequest{VoterID: vs[0].ID, Email: address,
				Document: portal.DocPassport, Reason: "au guichet"})
			if err != nil {
				t.Fatalf("proposal %d: %v", round*n+i, err)
			}
			ids[i] = c.ID
		}
		answers := approveAtOnce(svc, approvers, ids)
		taken := string(portal.CodeInvalidInput) + " " + string(portal.FieldEmail) + ":" + string(portal.ReasonTaken)
		if answers["approved"] != 1 || answers[taken] != n-1 {
			t.Errorf("round %d: %d approvals onto one address at once answered %v; want 1 approved and %d %q",
				round, n, answers, n-1, taken)
		}
		vs, err := svc.Office.FindVoters(ctx, proposer, address)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 {
			t.Errorf("round %d: %d voters moved onto %s, want 1", round, len(vs), address)
		}
	}
}

// deskAgents returns a service over db with a roll of voters voters,
// and the sessions of a proposer and of three approvers (agents who may
// approve, without a second factor: no clock games).
func deskAgents(t *testing.T, db service.Store, voters int) (svc *service.Service, proposer string, approvers []string) {
	t.Helper()
	ctx := context.Background()
	cfg := Config()
	cfg.ApprovalRole = portal.RoleAgent
	svc, err := service.New(db, cfg, service.Options{Clock: NewClock(Start), CodeRand: Sevens{}})
	if err != nil {
		t.Fatal(err)
	}
	var roll strings.Builder
	if _, err := WriteRoll(&roll, voters, 0); err != nil {
		t.Fatal(err)
	}
	if rep, err := svc.Operator.ImportRoll(ctx, "test", strings.NewReader(roll.String()), nil); err != nil || rep.Inserted != voters {
		t.Fatalf("roll import: %d inserted, %v", rep.Inserted, err)
	}
	login := func(name string) string {
		t.Helper()
		if _, err := svc.Operator.AddAgent(ctx, name, portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
			t.Fatal(err)
		}
		s, err := svc.Office.AgentLogin(ctx, name, "correct horse battery", "")
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}
	return svc, login("proposer"), []string{login("approver1"), login("approver2"), login("approver3")}
}

// approveAtOnce approves the changes ids all at once, in turn by each of
// approvers, and counts the answers: "approved", or the error's code and
// its fields' reasons.
func approveAtOnce(svc *service.Service, approvers []string, ids []int64) map[string]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	answers := map[string]int{}
	start := make(chan struct{})
	for i := range ids {
		wg.Go(func() {
			<-start
			_, err := svc.Office.ApproveContactChange(context.Background(), approvers[i%len(approvers)], ids[i])
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
	return answers
}

// ResetDuringLogins resets an agent's second factor while logins with the
// secret it replaces are under way, rounds times, on a service over db (a
// new, empty store): whatever the order, no session opened with the old
// secret outlives the reset — a login that checked the old code after the
// reset is refused, one that opened its session before has it ended.
// Several logins run at once with each reset, from sources of their own
// (each refusal counts against its source).
func ResetDuringLogins(t *testing.T, db service.Store, rounds int) {
	t.Helper()
	ctx := context.Background()
	clock := NewClock(Start)
	svc, err := service.New(db, Config(), service.Options{Clock: clock, CodeRand: Sevens{}})
	if err != nil {
		t.Fatal(err)
	}
	enr, err := svc.Operator.AddAgent(ctx, "alice", portal.RoleAdmin, resetPassword, true, portal.Scope{Central: true})
	if err != nil {
		t.Fatal(err)
	}
	opened, survived := 0, 0
	for round := range rounds {
		clock.Advance(30 * time.Second) // a code serves once: each round its own step
		tokens, next := loginsDuringReset(t, svc, clock, enr.Secret, round, round == rounds-1)
		for _, tok := range tokens {
			opened++
			if _, err := svc.Office.PendingContactChanges(ctx, tok); err == nil {
				survived++
			}
		}
		if next.Secret == "" {
			t.Fatal("no new secret")
		}
		enr = next
	}
	if survived > 0 || opened == 0 {
		t.Errorf("%d of %d sessions opened with a replaced secret still work after its reset (want some opened, none left)", survived, opened)
	}
	t.Logf("%d rounds: %d logins with the secret being replaced opened a session; %d of them survived its reset", rounds, opened, survived)
}

const resetPassword = "correct horse battery"

// loginsDuringReset runs three logins of alice with codes of secret, from
// sources of their own, and a reset of her second factor at once (after
// them in the last round); it returns the sessions opened and the new
// enrolment.
func loginsDuringReset(t *testing.T, svc *service.Service, clock *Clock, secret string, round int, last bool) ([]string, service.Enrollment) {
	t.Helper()
	ctx := context.Background()
	code := TOTP(t, secret, clock.Now())
	var wg, logins sync.WaitGroup
	start := make(chan struct{})
	tokens := make(chan string, 4)
	for i := range 3 {
		logins.Go(func() {
			<-start
			// Codes of the step before, this one and the next: each
			// serves once, so that several logins can open a session.
			at := clock.Now().Add(time.Duration(i-1) * 30 * time.Second)
			c := code
			if i != 1 {
				c = TOTP(t, secret, at)
			}
			src := portal.WithClient(ctx, fmt.Sprintf("192.0.2.%d", (round*3+i)%250+1))
			if s, err := svc.Office.AgentLogin(src, "alice", resetPassword, c); err == nil {
				tokens <- s.Token
			}
		})
	}
	var next service.Enrollment
	wg.Go(func() {
		<-start
		switch {
		case last:
			// Once after every login: their sessions, surely opened,
			// must end.
			logins.Wait()
		case round%4 > 0:
			// Spread over the logins' password check.
			time.Sleep(time.Duration(round%4) * 15 * time.Millisecond)
		}
		var err error
		if next, err = svc.Operator.ResetSecondFactor(ctx, "cli", "alice"); err != nil {
			t.Error(err)
		}
	})
	close(start)
	logins.Wait()
	wg.Wait()
	close(tokens)
	var out []string
	for tok := range tokens {
		out = append(out, tok)
	}
	return out, next
}
