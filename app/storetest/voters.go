package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"consulvote/app/service"
)

func testVoterLookups(t *testing.T, st Store) {
	in := service.Voter{NUMIC: "00012345", Email: "marie.dupont@example.org", LastName: "DUPONT",
		FirstNames: "Marie Claire", Mobile: "+33612345678", Circonscription: "Allemagne", Lang: "en",
		IdentifierHash: []byte{1, 2, 3}, PasswordHash: "$argon2id$x"}
	var id int64
	update(t, st, func(tx service.Tx) (err error) { id, err = tx.InsertVoter(in); return err })
	other := addVoter(t, st, "99999999")
	view(t, st, func(tx service.Tx) error {
		for name, get := range map[string]func() (service.Voter, error){
			"VoterByID":         func() (service.Voter, error) { return tx.VoterByID(id) },
			"VoterByNUMIC":      func() (service.Voter, error) { return tx.VoterByNUMIC(in.NUMIC) },
			"VoterByIdentifier": func() (service.Voter, error) { return tx.VoterByIdentifier([]byte{1, 2, 3}) },
		} {
			v, err := get()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			want := in
			want.ID = id
			if v.ID != want.ID || v.NUMIC != want.NUMIC || v.Email != want.Email || v.LastName != want.LastName ||
				v.FirstNames != want.FirstNames || v.Mobile != want.Mobile || v.Circonscription != want.Circonscription ||
				v.Lang != want.Lang || !bytes.Equal(v.IdentifierHash, want.IdentifierHash) || v.PasswordHash != want.PasswordHash {
				t.Errorf("%s = %+v, want %+v", name, v, want)
			}
			if !v.LockedUntil.IsZero() || !v.LastLoginAt.IsZero() || v.FailedAttempts != 0 {
				t.Errorf("%s: a new voter has state %+v", name, v)
			}
		}
		_, err := tx.VoterByID(id + 1000)
		wantNotFound(t, "VoterByID of a missing voter", err)
		_, err = tx.VoterByNUMIC("11111111")
		wantNotFound(t, "VoterByNUMIC of a missing voter", err)
		_, err = tx.VoterByIdentifier([]byte{9})
		wantNotFound(t, "VoterByIdentifier of a missing hash", err)
		if n, err := tx.CountVoters(); err != nil || n != 2 {
			t.Errorf("CountVoters = %d, %v", n, err)
		}
		for _, q := range []struct{ numic, email string }{{in.NUMIC, "nobody"}, {"none", in.Email}} {
			vs, err := tx.FindVoters(q.numic, q.email, 10)
			if err != nil || len(vs) != 1 || vs[0].ID != id {
				t.Errorf("FindVoters(%q, %q) = %+v, %v", q.numic, q.email, vs, err)
			}
		}
		if vs, err := tx.FindVoters("99999999", in.Email, 10); err != nil || len(vs) != 2 || vs[0].ID != id || vs[1].ID != other {
			t.Errorf("FindVoters of both = %+v, %v; want both, by id", vs, err)
		}
		return nil
	})
}

func testUniqueNUMIC(t *testing.T, st Store) {
	addVoter(t, st, "123456")
	err := st.Update(context.Background(), func(tx service.Tx) error {
		_, err := tx.InsertVoter(service.Voter{NUMIC: "123456", Email: "b@example.org"})
		return err
	})
	if err == nil {
		t.Fatal("a second voter with the same NUMIC was stored")
	}
}

// testNULLookups: a text with a NUL character (which PostgreSQL cannot
// store) finds nothing, where a query could fail with a server error.
func testNULLookups(t *testing.T, st Store) {
	addVoter(t, st, "123456")
	update(t, st, func(tx service.Tx) error {
		_, err := tx.VoterByNUMIC("123456\x00")
		wantNotFound(t, "VoterByNUMIC with a NUL", err)
		if vs, err := tx.FindVoters("1\x00", "a\x00@example.org", 10); err != nil || len(vs) != 0 {
			t.Errorf("FindVoters with a NUL = %+v, %v", vs, err)
		}
		_, err = tx.AgentByName("paul\x00")
		wantNotFound(t, "AgentByName with a NUL", err)
		if es, err := tx.AuditSearch("\x00", "", 0, 10); err != nil || len(es) != 0 {
			t.Errorf("AuditSearch with a NUL = %+v, %v", es, err)
		}
		return nil
	})
}

func testCredentials(t *testing.T, st Store) {
	id := addVoter(t, st, "123456")
	update(t, st, func(tx service.Tx) error {
		if err := tx.SetIdentifier(id, []byte("id-hash"), t0); err != nil {
			return err
		}
		if err := tx.SetPassword(id, "$argon2id$new", t0.Add(time.Second)); err != nil {
			return err
		}
		return tx.InsertSession(service.Session{TokenHash: []byte("s"), VoterID: id, CreatedAt: t0.Add(2 * time.Second), ExpiresAt: t0.Add(time.Hour)})
	})
	view(t, st, func(tx service.Tx) error {
		v, err := tx.VoterByIdentifier([]byte("id-hash"))
		if err != nil {
			return err
		}
		if v.ID != id || v.PasswordHash != "$argon2id$new" || !v.IdentifierRenewedAt.Equal(t0) ||
			!v.PasswordRenewedAt.Equal(t0.Add(time.Second)) || !v.LastLoginAt.Equal(t0.Add(2*time.Second)) {
			t.Errorf("voter after the changes: %+v", v)
		}
		return nil
	})
	err := st.Update(context.Background(), func(tx service.Tx) error { return tx.SetPassword(id+1000, "x", t0) })
	wantNotFound(t, "SetPassword of a missing voter", err)
	err = st.Update(context.Background(), func(tx service.Tx) error {
		return tx.InsertSession(service.Session{TokenHash: []byte("t"), VoterID: id + 1000, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	})
	wantNotFound(t, "InsertSession of a missing voter", err)
}

// lockoutVoter stores a voter and returns its id, a reader of its row,
// and a reservation of one of its 3 attempts an hour at a time.
func lockoutVoter(t *testing.T, st Store) (int64, func() service.Voter, func(time.Time) (int, time.Time)) {
	id := addVoter(t, st, "123456")
	voter := func() service.Voter {
		var v service.Voter
		view(t, st, func(tx service.Tx) (err error) { v, err = tx.VoterByID(id); return err })
		return v
	}
	reserve := func(at time.Time) (n int, until time.Time) {
		t.Helper()
		update(t, st, func(tx service.Tx) (err error) { n, until, err = tx.ReserveAttempt(id, at, 3, time.Hour); return err })
		return n, until
	}
	return id, voter, reserve
}

// testLockouts: max attempts a window, a release gives one back, a new
// window after the end of the last one.
func testLockouts(t *testing.T, st Store) {
	id, _, reserve := lockoutVoter(t, st)
	// Three attempts in a window of an hour from the first; then none.
	for want := 1; want <= 3; want++ {
		if n, _ := reserve(t0.Add(time.Duration(want) * time.Minute)); n != want {
			t.Fatalf("reservation %d numbered %d", want, n)
		}
	}
	if n, until := reserve(t0.Add(10 * time.Minute)); n != 0 || !until.IsZero() {
		t.Errorf("4th reservation: %d, locked until %v; want refused, not locked", n, until)
	}
	// A release gives one back; the window's end does not move.
	update(t, st, func(tx service.Tx) error { return tx.ReleaseAttempt(id) })
	if n, _ := reserve(t0.Add(11 * time.Minute)); n != 3 {
		t.Errorf("after a release: attempt %d, want 3", n)
	}
	// A new window after the end of the last one.
	if n, _ := reserve(t0.Add(time.Minute + time.Hour)); n != 1 {
		t.Errorf("at the window's end: attempt %d, want 1 (a new window)", n)
	}
	err := st.Update(context.Background(), func(tx service.Tx) error {
		_, _, err := tx.ReserveAttempt(id+1000, t0, 3, time.Hour)
		return err
	})
	wantNotFound(t, "ReserveAttempt of a missing voter", err)
}

// testLocks: no reservation until the lock ends, and a success is
// refused; a lock to the zero time unlocks and forgets the attempts.
func testLocks(t *testing.T, st Store) {
	id, voter, reserve := lockoutVoter(t, st)
	lockEnd := t0.Add(3 * time.Hour)
	update(t, st, func(tx service.Tx) error { return tx.Lock(id, lockEnd) })
	if v := voter(); !v.LockedUntil.Equal(lockEnd) {
		t.Errorf("after Lock: locked until %v, want %v", v.LockedUntil, lockEnd)
	}
	if n, until := reserve(lockEnd.Add(-time.Nanosecond)); n != 0 || !until.Equal(lockEnd) {
		t.Errorf("reservation while locked: %d until %v", n, until)
	}
	update(t, st, func(tx service.Tx) error {
		if ok, err := tx.ClearFailures(id, lockEnd.Add(-time.Nanosecond)); ok || err != nil {
			return fmt.Errorf("ClearFailures while locked = %v, %v; want false", ok, err)
		}
		return nil
	})
	if n, _ := reserve(lockEnd); n != 1 {
		t.Errorf("reservation when the lock ends: %d, want 1", n)
	}
	update(t, st, func(tx service.Tx) error {
		if ok, err := tx.ClearFailures(id, lockEnd); !ok || err != nil {
			return fmt.Errorf("ClearFailures after the lock = %v, %v; want true", ok, err)
		}
		return nil
	})
	if v := voter(); v.FailedAttempts != 0 {
		t.Errorf("after ClearFailures: %d failures", v.FailedAttempts)
	}
	if n, _ := reserve(lockEnd); n != 1 {
		t.Errorf("reservation after ClearFailures: %d, want 1", n)
	}
	update(t, st, func(tx service.Tx) error { return tx.Lock(id, lockEnd.Add(time.Hour)) })
	update(t, st, func(tx service.Tx) error { return tx.Lock(id, time.Time{}) })
	if v := voter(); !v.LockedUntil.IsZero() || v.FailedAttempts != 0 {
		t.Errorf("after Lock to the zero time: locked until %v with %d failures", v.LockedUntil, v.FailedAttempts)
	}
	if n, _ := reserve(lockEnd); n != 1 {
		t.Errorf("reservation after the unlock: %d, want 1 (the attempts forgotten)", n)
	}
}

// testConcurrentFailures: of 64 concurrent reservations in one window,
// exactly max get a number, each number once.
func testConcurrentFailures(t *testing.T, st Store) {
	id := addVoter(t, st, "123456")
	const n, max = 64, 5
	counts := make(chan int, n)
	concurrently(t, n, func() (bool, error) {
		return false, st.Update(context.Background(), func(tx service.Tx) error {
			c, _, err := tx.ReserveAttempt(id, t0, max, time.Hour)
			counts <- c
			return err
		})
	})
	close(counts)
	seen := map[int]bool{}
	for c := range counts {
		if c != 0 && seen[c] {
			t.Errorf("two concurrent reservations both numbered %d", c)
		}
		seen[c] = true
	}
	for c := 1; c <= max; c++ {
		if !seen[c] {
			t.Errorf("no reservation numbered %d", c)
		}
	}
	if len(seen) != max+1 {
		t.Errorf("reservation numbers %v: want 1 to %d and refusals", seen, max)
	}
}

func testRoll(t *testing.T, st Store) {
	// More NUMICs than a statement may bind at once on some databases.
	const n = 1200
	voter := func(i int) service.Voter {
		return service.Voter{NUMIC: fmt.Sprintf("%08d", i), Email: "a@example.org", Lang: "fr",
			IdentifierHash: []byte(fmt.Sprint(i)), PasswordHash: "pw"}
	}
	update(t, st, func(tx service.Tx) error {
		// One by one, then the rest at once, as the roll import does.
		for i := range n / 2 {
			if _, err := tx.InsertVoter(voter(i)); err != nil {
				return err
			}
		}
		var rest []service.Voter
		for i := n / 2; i < n; i++ {
			rest = append(rest, voter(i))
		}
		if err := tx.InsertVoters(nil); err != nil {
			return err
		}
		return tx.InsertVoters(rest)
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		return tx.InsertVoters([]service.Voter{voter(n), voter(7)})
	})
	if err == nil {
		t.Error("InsertVoters stored a NUMIC twice")
	}
	numics := []string{"99999999"}
	for i := range n {
		numics = append(numics, fmt.Sprintf("%08d", i))
	}
	update(t, st, func(tx service.Tx) error {
		got, err := tx.VotersByNUMIC(numics)
		if err != nil {
			return err
		}
		if len(got) != n || got["00000007"].NUMIC != "00000007" {
			t.Fatalf("VotersByNUMIC: %d voters, want %d", len(got), n)
		}
		v := got["00000007"]
		v.Email, v.LastName, v.FirstNames, v.Mobile, v.Circonscription = "b@example.org", "NOUVEAU", "Jean", "+33700000000", "Maroc"
		return tx.UpdateRollData(v)
	})
	view(t, st, func(tx service.Tx) error {
		v, err := tx.VoterByNUMIC("00000007")
		if err != nil {
			return err
		}
		if v.Email != "b@example.org" || v.LastName != "NOUVEAU" || v.FirstNames != "Jean" || v.Mobile != "+33700000000" ||
			v.Circonscription != "Maroc" {
			t.Errorf("after UpdateRollData: %+v", v)
		}
		if string(v.IdentifierHash) != "7" || v.PasswordHash != "pw" || v.Lang != "fr" {
			t.Errorf("UpdateRollData touched the credentials: %+v", v)
		}
		if w, err := tx.VoterByNUMIC(fmt.Sprintf("%08d", n-1)); err != nil || string(w.IdentifierHash) != fmt.Sprint(n-1) ||
			w.Email != "a@example.org" || w.PasswordHash != "pw" {
			t.Errorf("voter stored by InsertVoters: %+v, %v", w, err)
		}
		if n, err := tx.CountVoters(); err != nil || n != 1200 {
			t.Errorf("%d voters, %v: the failed InsertVoters left some", n, err)
		}
		return nil
	})
}

func testCampaigns(t *testing.T, st Store) {
	a, b, c := addVoter(t, st, "100001"), addVoter(t, st, "100002"), addVoter(t, st, "100003")
	update(t, st, func(tx service.Tx) error { return tx.SetIdentifier(c, []byte("has one"), t0) })
	var vs []service.Voter
	view(t, st, func(tx service.Tx) (err error) { vs, err = tx.VotersWithoutCredentials("mai", 10); return err })
	if len(vs) != 2 || vs[0].ID != a || vs[1].ID != b || vs[0].Email == "" || vs[0].Lang == "" {
		t.Fatalf("VotersWithoutCredentials = %+v; want voters %d and %d with their addresses", vs, a, b)
	}
	// Many concurrent campaign workers on one voter: one serves it.
	won := concurrently(t, 16, func() (ok bool, err error) {
		err = st.Update(context.Background(), func(tx service.Tx) (err error) {
			ok, err = tx.SetFirstCredentials("mai", a, []byte("ident-a"), "hash-a", t0)
			return err
		})
		return ok, err
	})
	if won != 1 {
		t.Errorf("%d concurrent SetFirstCredentials succeeded, want 1", won)
	}
	view(t, st, func(tx service.Tx) error {
		vs, err := tx.VotersWithoutCredentials("mai", 10)
		if err != nil || len(vs) != 1 || vs[0].ID != b {
			t.Errorf("after serving %d: %+v, %v; want only %d", a, vs, err, b)
		}
		v, err := tx.VoterByIdentifier([]byte("ident-a"))
		if err != nil || v.ID != a || v.PasswordHash != "hash-a" {
			t.Errorf("served voter: %+v, %v", v, err)
		}
		return nil
	})
	// A voter skipped by one campaign (no hashes) is offered to the next.
	update(t, st, func(tx service.Tx) error {
		_, err := tx.SetFirstCredentials("mai", b, nil, "", t0)
		return err
	})
	view(t, st, func(tx service.Tx) error {
		if vs, err := tx.VotersWithoutCredentials("mai", 10); err != nil || len(vs) != 0 {
			t.Errorf("campaign mai still offers %+v, %v", vs, err)
		}
		if vs, err := tx.VotersWithoutCredentials("juin", 10); err != nil || len(vs) != 1 || vs[0].ID != b {
			t.Errorf("campaign juin offers %+v, %v; want %d", vs, err, b)
		}
		return nil
	})
}
