// Package storetest is the conformance suite of the service's stores: every
// store (app/sqlstore, on SQLite and on PostgreSQL) passes Run. Each test
// is named after the role it checks (service.Voters, service.Links, …,
// outbox.Queue), so that a store's author can read the contract from it.
//
// Rules every store keeps, checked here:
//   - Update commits only if fn returns nil; View never writes.
//   - Lookups that find nothing return service.ErrNotFound.
//   - Times round-trip exactly, to the nanosecond (the audit log seals
//     them), and the zero time stays zero.
//   - Single-use rules hold under concurrency: of many concurrent callers,
//     exactly one consumes a link, spends a security code, or gets a
//     campaign's first credentials, or decides a contact change;
//     concurrent counters lose no increment.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"consulvote/app/audit"
	"consulvote/app/outbox"
	"consulvote/app/service"
)

// Store is a store under test: the service's transactions and the
// delivery worker's queue.
type Store interface {
	service.Store
	outbox.Queue
}

type storeTest struct {
	name string
	test func(*testing.T, Store)
}

// Opener returns a new, empty store, closed when t ends.
type Opener func(t *testing.T) Store

// Run runs the whole suite, each test on a fresh store from open.
func Run(t *testing.T, open Opener) {
	for _, tc := range append([]storeTest{
		{"Transactions/UpdateRollsBack", testUpdateRollsBack},
		{"Transactions/WriteFailsLate", testWriteFailsLate},
		{"Transactions/UpdateRunsAgain", testUpdateRunsAgain},
		{"Voters/Lookups", testVoterLookups},
		{"Voters/UniqueNUMIC", testUniqueNUMIC},
		{"Lookups/NULFindsNothing", testNULLookups},
		{"Credentials/SetAndTimes", testCredentials},
		{"Lockouts/ReserveRelease", testLockouts},
		{"Lockouts/Lock", testLocks},
		{"Lockouts/ConcurrentReservations", testConcurrentFailures},
		{"Links/Lifecycle", testLinkLifecycle},
		{"Links/NeedAVoter", testLinkNeedsVoter},
		{"Links/ConsumedOnce", testLinkConsumedOnce},
		{"Codes/SpentOnce", testCodeSpentOnce},
		{"Codes/Purge", testCodePurge},
		{"RateLimits/Window", testRateWindow},
		{"RateLimits/Purge", testRatePurge},
		{"Sessions/Delete", testSessions},
		{"Outbox/States", testOutboxStates},
		{"Outbox/DepthAndRequeue", testOutboxDepth},
		{"Queue/ClaimsAndMarks", testQueue},
		{"Queue/Leases", testQueueLeases},
		{"Queue/ClaimedOnce", testClaimedOnce},
		{"Deliveries/States", testDeliveries},
		{"Deliveries/Counts", testDeliveryCounts},
		{"Deliveries/SetOnce", testDeliverySetOnce},
		{"Queue/FallbackClaimedOnce", testFallbackClaimedOnce},
		{"Throttles/WindowAndBlocks", testThrottles},
		{"Throttles/Concurrency", testThrottlesConcurrent},
		{"Agents/AccountsAndSessions", testAgents},
		{"Agents/SecondFactorReset", testSecondFactorReset},
		{"Agents/Scope", testAgentScope},
		{"Roll/ByNUMICAndUpdate", testRoll},
		{"Campaigns/ServedOnce", testCampaigns},
		{"ContactChanges/Stored", testContactChangeStored},
		{"ContactChanges/Decided", testContactChangeDecided},
		{"ContactChanges/Expiry", testContactChangeExpiry},
		{"ContactChanges/DecidedOnce", testContactChangeDecidedOnce},
		{"ContactChanges/SetContact", testSetContact},
		{"ContactChanges/LockAddress", testLockAddress},
		{"Roll/KeepsDeskContact", testRollKeepsDeskContact},
	}, auditTests()...) {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// t0 is the time the tests start at: nanoseconds set, to catch a store
// that rounds.
var t0 = time.Date(2026, 5, 6, 17, 25, 0, 123456789, time.UTC)

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, st Store, fn func(service.Tx) error) {
	t.Helper()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, st Store, fn func(service.Tx) error) {
	t.Helper()
	if err := st.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// addVoter stores a voter with that NUMIC and returns its id.
func addVoter(t *testing.T, st Store, numic string) int64 {
	t.Helper()
	var id int64
	update(t, st, func(tx service.Tx) (err error) {
		id, err = tx.InsertVoter(service.Voter{NUMIC: numic, Email: numic + "@example.org", LastName: "NOM",
			FirstNames: "Prénom", Mobile: "+33612345678", Circonscription: "Allemagne", Lang: "fr"})
		return err
	})
	return id
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, service.ErrNotFound) {
		t.Errorf("%s: %v, want service.ErrNotFound", what, err)
	}
}

// concurrently runs fn n times at once and returns how many returned true.
func concurrently(t *testing.T, n int, fn func() (bool, error)) int {
	t.Helper()
	type result struct {
		ok  bool
		err error
	}
	start := make(chan struct{})
	results := make(chan result, n)
	for range n {
		go func() {
			<-start
			ok, err := fn()
			results <- result{ok, err}
		}()
	}
	close(start)
	won := 0
	for range n {
		r := <-results
		if r.err != nil {
			t.Error(r.err)
		}
		if r.ok {
			won++
		}
	}
	return won
}

func testUpdateRollsBack(t *testing.T, st Store) {
	boom := errors.New("boom")
	err := st.Update(context.Background(), func(tx service.Tx) error {
		if _, err := tx.InsertVoter(service.Voter{NUMIC: "123456", Email: "a@example.org"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	view(t, st, func(tx service.Tx) error {
		if n, err := tx.CountVoters(); err != nil || n != 0 {
			t.Errorf("after a rolled-back insert: %d voters, %v", n, err)
		}
		return nil
	})
}

// testWriteFailsLate: a write whose outcome nobody reads may go to the
// database with the next statement or the commit (PostgreSQL); when it
// fails there, Update fails and nothing of the transaction is stored.
func testWriteFailsLate(t *testing.T, st Store) {
	key := []byte("late")
	err := st.Update(context.Background(), func(tx service.Tx) error {
		if err := tx.AddRateEvent(key, t0); err != nil {
			return err
		}
		// An audit row naming a voter the roll does not hold.
		if err := audit.Append(tx, auditKey, audit.Entry{At: t0, Actor: "test", Action: "late", VoterID: 999_999}); err != nil {
			return err
		}
		return tx.AddRateEvent(key, t0.Add(time.Second))
	})
	if err == nil {
		t.Fatal("Update of an audit row for a missing voter succeeded")
	}
	update(t, st, func(tx service.Tx) error {
		ts, err := tx.RateEvents(t0.Add(-time.Hour), key)
		if err == nil && len(ts[0]) != 0 {
			t.Errorf("after a failed late write: rate events %v stored", ts[0])
		}
		return err
	})
	if rows := allRows(t, st); len(rows) != 0 {
		t.Errorf("after a failed late write: %d audit rows", len(rows))
	}
}

// CommitFailer is a store that can make its next n commits fail as a
// conflict the database refuses with nothing done (PostgreSQL's
// serialization failure, SQLite's busy file): Update must then run fn
// again.
type CommitFailer interface {
	FailCommits(n int)
}

// testUpdateRunsAgain: an Update whose first commit fails runs fn again,
// and the result is as if it ran once; a refusal returned as
// service.Commit commits and comes back, on the run that committed.
func testUpdateRunsAgain(t *testing.T, st Store) {
	cf, ok := st.(CommitFailer)
	if !ok {
		t.Fatal("the store under test does not implement storetest.CommitFailer")
	}
	ctx := context.Background()
	cf.FailCommits(1)
	runs := 0
	var id int64
	err := st.Update(ctx, func(tx service.Tx) (err error) {
		runs++
		id, err = tx.InsertVoter(service.Voter{NUMIC: "00000001", Email: "a@example.org", Lang: "fr"})
		return err
	})
	if err != nil || runs != 2 {
		t.Fatalf("Update with its first commit refused: %v after %d runs; want nil after 2", err, runs)
	}
	view(t, st, func(tx service.Tx) error {
		n, err := tx.CountVoters()
		if v, verr := tx.VoterByID(id); n != 1 || verr != nil || v.NUMIC != "00000001" {
			t.Errorf("after a run again: %d voters, voter %d = %+v, %v", n, id, v, verr)
		}
		return err
	})

	refused := errors.New("refused")
	cf.FailCommits(1)
	runs = 0
	key := []byte("key")
	err = st.Update(ctx, func(tx service.Tx) error {
		runs++
		if err := tx.AddRateEvent(key, t0.Add(time.Duration(runs))); err != nil {
			return err
		}
		return service.Commit(fmt.Errorf("run %d: %w", runs, refused))
	})
	if !errors.Is(err, refused) || err.Error() != "run 2: refused" {
		t.Fatalf("Update of a committed refusal: %v; want the second run's refusal", err)
	}
	update(t, st, func(tx service.Tx) error {
		ts, err := tx.RateEvents(t0, key)
		if err != nil || len(ts[0]) != 1 || !ts[0][0].Equal(t0.Add(2)) {
			t.Errorf("committed refusal stored %v; want the second run's event alone", ts)
		}
		return err
	})
}
