package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"consulvote/app/service"
)

func testLinkLifecycle(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	var first, second int64
	update(t, st, func(tx service.Tx) (err error) {
		if first, err = tx.InsertLink(service.Link{VoterID: voter, Kind: service.LinkIdentifier,
			TokenHash: []byte("one"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return err
		}
		// The second replaces the first.
		second, err = tx.InsertLink(service.Link{VoterID: voter, Kind: service.LinkIdentifier,
			TokenHash: []byte("two"), CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)})
		return err
	})
	update(t, st, func(tx service.Tx) error {
		l, err := tx.LinkByTokenHash([]byte("one"))
		if err != nil || l.ID != first || l.VoterID != voter || l.Kind != service.LinkIdentifier ||
			!bytes.Equal(l.TokenHash, []byte("one")) || !l.CreatedAt.Equal(t0) || !l.ExpiresAt.Equal(t0.Add(time.Hour)) ||
			!l.ReplacedAt.Equal(t0.Add(time.Minute)) || !l.UsedAt.IsZero() || !l.RevokedAt.IsZero() {
			t.Errorf("first link: %+v, %v; want it replaced at t0+1m", l, err)
		}
		if ls, err := tx.PendingLinks(voter, t0.Add(time.Hour)); len(ls) != 0 || err != nil {
			t.Errorf("PendingLinks at the expiry = %+v, %v; want none", ls, err)
		}
		if ls, err := tx.PendingLinks(voter, t0); err != nil || len(ls) != 1 || ls[0].Kind != service.LinkIdentifier ||
			!ls[0].ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("PendingLinks = %+v, %v; want the second link", ls, err)
		}
		if ok, _ := tx.ConsumeLink(first, t0); ok {
			t.Error("consumed a replaced link")
		}
		if ok, _ := tx.ConsumeLink(second, t0.Add(time.Hour)); ok {
			t.Error("consumed a link at its expiry")
		}
		if ok, err := tx.ConsumeLink(second, t0.Add(time.Hour-1)); !ok || err != nil {
			t.Errorf("could not consume a valid link: %v", err)
		}
		if ok, _ := tx.ConsumeLink(second, t0.Add(time.Hour-1)); ok {
			t.Error("consumed a link twice")
		}
		if ls, err := tx.PendingLinks(voter, t0); err != nil || len(ls) != 0 {
			t.Errorf("PendingLinks after use = %+v, %v", ls, err)
		}
		_, err = tx.LinkByTokenHash([]byte("none"))
		wantNotFound(t, "LinkByTokenHash of an unknown token", err)
		// Revoking kills every pending link, of both kinds.
		for _, k := range []service.LinkKind{service.LinkIdentifier, service.LinkPassword} {
			if _, err := tx.InsertLink(service.Link{VoterID: voter, Kind: k, TokenHash: []byte("three-" + string(k)),
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
				return err
			}
		}
		if ls, _ := tx.PendingLinks(voter, t0); len(ls) != 2 {
			t.Errorf("%d links pending, want one of each kind (a link replaces only its kind's)", len(ls))
		}
		if err := tx.RevokeLinks(voter, t0.Add(2*time.Minute)); err != nil {
			return err
		}
		if ls, _ := tx.PendingLinks(voter, t0); len(ls) != 0 {
			t.Errorf("%d links pending after RevokeLinks", len(ls))
		}
		if l, _ := tx.LinkByTokenHash([]byte("three-password")); !l.RevokedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("revoked link: %+v", l)
		}
		return nil
	})
}

func testLinkNeedsVoter(t *testing.T, st Store) {
	err := st.Update(context.Background(), func(tx service.Tx) error {
		_, err := tx.InsertLink(service.Link{VoterID: 42, Kind: service.LinkIdentifier, TokenHash: []byte{1},
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		return err
	})
	if err == nil {
		t.Fatal("a link to a missing voter was stored")
	}
}

func testLinkConsumedOnce(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	var id int64
	update(t, st, func(tx service.Tx) (err error) {
		id, err = tx.InsertLink(service.Link{VoterID: voter, Kind: service.LinkIdentifier, TokenHash: []byte("t"),
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		return err
	})
	won := concurrently(t, 32, func() (ok bool, err error) {
		err = st.Update(context.Background(), func(tx service.Tx) (err error) {
			ok, err = tx.ConsumeLink(id, t0.Add(time.Minute))
			return err
		})
		return ok, err
	})
	if won != 1 {
		t.Errorf("%d of 32 concurrent ConsumeLink succeeded, want 1", won)
	}
}

// testCodeSpentOnce: of 32 concurrent spenders of one code, one spends it;
// a code spent stays spent, and another code is not.
func testCodeSpentOnce(t *testing.T, st Store) {
	won := concurrently(t, 32, func() (bool, error) {
		var ok bool
		err := st.Update(context.Background(), func(tx service.Tx) (err error) {
			ok, err = tx.SpendSecurityCode([]byte("c1"), t0)
			return err
		})
		return ok, err
	})
	if won != 1 {
		t.Errorf("%d of 32 concurrent spends of one code succeeded, want 1", won)
	}
	update(t, st, func(tx service.Tx) error {
		if ok, err := tx.SpendSecurityCode([]byte("c1"), t0); ok || err != nil {
			t.Errorf("SpendSecurityCode of a spent code = %v, %v; want false", ok, err)
		}
		if spent, err := tx.SecurityCodeSpent([]byte("c1")); !spent || err != nil {
			t.Errorf("SecurityCodeSpent of a spent code = %v, %v", spent, err)
		}
		if spent, err := tx.SecurityCodeSpent([]byte("c2")); spent || err != nil {
			t.Errorf("SecurityCodeSpent of another code = %v, %v", spent, err)
		}
		return nil
	})
	// A spend rolled back spends nothing.
	st.Update(context.Background(), func(tx service.Tx) error {
		tx.SpendSecurityCode([]byte("c2"), t0)
		return errors.New("roll back")
	})
	view(t, st, func(tx service.Tx) error {
		if spent, err := tx.SecurityCodeSpent([]byte("c2")); spent || err != nil {
			t.Errorf("SecurityCodeSpent after a rollback = %v, %v", spent, err)
		}
		return nil
	})
}

// testCodePurge: PurgeLimits deletes the codes expired by its time, at
// most limit a call, with the old rate events: both count.
func testCodePurge(t *testing.T, st Store) {
	update(t, st, func(tx service.Tx) error {
		if err := tx.AddRateEvent([]byte("old event"), t0.Add(-time.Hour)); err != nil {
			return err
		}
		for i, key := range []string{"old", "older", "new"} {
			expires := t0.Add(-time.Duration(i) * time.Second)
			if key == "new" {
				expires = t0.Add(time.Second)
			}
			if _, err := tx.SpendSecurityCode([]byte(key), expires); err != nil {
				return err
			}
		}
		return nil
	})
	for _, want := range []int{2, 1, 0} {
		update(t, st, func(tx service.Tx) error {
			if n, err := tx.PurgeLimits(t0, t0, 1); n != want || err != nil {
				t.Errorf("PurgeLimits = %d, %v; want %d", n, err, want)
			}
			return nil
		})
	}
	view(t, st, func(tx service.Tx) error {
		for key, want := range map[string]bool{"old": false, "older": false, "new": true} {
			if spent, err := tx.SecurityCodeSpent([]byte(key)); spent != want || err != nil {
				t.Errorf("after the purge, %s spent = %v, %v; want %v", key, spent, err, want)
			}
		}
		return nil
	})
}

func testRateWindow(t *testing.T, st Store) {
	update(t, st, func(tx service.Tx) error {
		for i := range 3 {
			if err := tx.AddRateEvent([]byte("k"), t0.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
		}
		if err := tx.AddRateEvent([]byte("other"), t0); err != nil {
			return err
		}
		ts, err := tx.RateEvents(t0, []byte("k")) // the one at t0 is out of the window
		if err != nil || len(ts) != 1 || len(ts[0]) != 2 || !ts[0][0].Equal(t0.Add(time.Minute)) || !ts[0][1].Equal(t0.Add(2*time.Minute)) {
			t.Errorf("RateEvents = %v, %v; want t0+1m and t0+2m", ts, err)
		}
		ts, err = tx.RateEvents(t0.Add(-time.Second), []byte("other"))
		if err != nil || len(ts[0]) != 1 {
			t.Errorf("RateEvents of another key = %v, %v", ts, err)
		}
		return nil
	})
	// Several keys read (and locked) at once, one of them twice, one never
	// counted: each gets its own times, in the order asked.
	update(t, st, func(tx service.Tx) error {
		ts, err := tx.RateEvents(t0.Add(-time.Second), []byte("k"), []byte("new"), []byte("other"), []byte("k"))
		if err != nil || len(ts) != 4 || len(ts[0]) != 3 || len(ts[1]) != 0 || len(ts[2]) != 1 || len(ts[3]) != 3 ||
			!ts[2][0].Equal(t0) {
			t.Errorf("RateEvents of k, new, other, k = %v, %v; want 3, 0, 1 (t0) and 3 events", ts, err)
		}
		return err
	})
}

// testRatePurge: the purge deletes old events of every key, at most limit
// a call, keeps the recent ones, and concurrent purges delete each event
// once.
func testRatePurge(t *testing.T, st Store) {
	update(t, st, func(tx service.Tx) error {
		for i := range 5 {
			if err := tx.AddRateEvent([]byte{'o', byte(i)}, t0.Add(-time.Duration(i)*time.Minute)); err != nil {
				return err
			}
		}
		return tx.AddRateEvent([]byte("recent"), t0.Add(time.Nanosecond))
	})
	for _, want := range []int{2, 2, 1, 0} {
		update(t, st, func(tx service.Tx) error {
			if n, err := tx.PurgeLimits(t0, t0, 2); err != nil || n != want {
				t.Errorf("PurgeLimits = %d, %v; want %d", n, err, want)
			}
			return nil
		})
	}
	view(t, st, func(tx service.Tx) error {
		ts, err := tx.RateEvents(t0.Add(-24*time.Hour), []byte("recent"), []byte{'o', 0})
		if err != nil || len(ts) != 2 || len(ts[0]) != 1 || len(ts[1]) != 0 {
			t.Errorf("the recent and an old event after the purge: %v, %v; want 1 and 0", ts, err)
		}
		return nil
	})

	const events, purgers, limit = 400, 8, 30
	update(t, st, func(tx service.Tx) error {
		for i := range events {
			if err := tx.AddRateEvent([]byte(fmt.Sprintf("k%d", i)), t0.Add(-time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	deleted := make(chan int, purgers)
	concurrently(t, purgers, func() (bool, error) {
		total := 0
		for {
			var n int
			err := st.Update(context.Background(), func(tx service.Tx) (err error) {
				n, err = tx.PurgeLimits(t0, t0, limit)
				return err
			})
			total += n
			if err != nil || n == 0 {
				deleted <- total
				return false, err
			}
		}
	})
	close(deleted)
	sum := 0
	for n := range deleted {
		sum += n
	}
	if sum != events {
		t.Errorf("%d concurrent purges deleted %d events in all, want %d", purgers, sum, events)
	}
}

func testSessions(t *testing.T, st Store) {
	a, b := addVoter(t, st, "100001"), addVoter(t, st, "100002")
	update(t, st, func(tx service.Tx) error {
		for i, s := range []service.Session{
			{TokenHash: []byte("a1"), VoterID: a}, {TokenHash: []byte("a2"), VoterID: a}, {TokenHash: []byte("b1"), VoterID: b},
		} {
			s.CreatedAt, s.ExpiresAt = t0, t0.Add(time.Duration(i+1)*time.Hour)
			if err := tx.InsertSession(s); err != nil {
				return err
			}
		}
		if err := tx.DeleteSession([]byte("b1")); err != nil {
			return err
		}
		if err := tx.DeleteSession([]byte("none")); err != nil {
			t.Errorf("DeleteSession of an unknown token: %v (want no error: logging out twice is fine)", err)
		}
		return tx.DeleteSessionsOf(a)
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		return tx.InsertSession(service.Session{TokenHash: []byte("x"), VoterID: 4242, CreatedAt: t0, ExpiresAt: t0})
	})
	if err == nil {
		t.Error("a session of a missing voter was stored")
	}
	// The same token cannot open two sessions.
	update(t, st, func(tx service.Tx) error {
		return tx.InsertSession(service.Session{TokenHash: []byte("a1"), VoterID: b, CreatedAt: t0, ExpiresAt: t0})
	})
	err = st.Update(context.Background(), func(tx service.Tx) error {
		return tx.InsertSession(service.Session{TokenHash: []byte("a1"), VoterID: a, CreatedAt: t0, ExpiresAt: t0})
	})
	if err == nil {
		t.Error("two sessions with one token hash were stored")
	}
}
