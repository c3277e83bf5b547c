package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"consulvote/app/service"
)

// addAgent stores an agent and returns its id.
func addAgent(t *testing.T, st Store, name string) int64 {
	t.Helper()
	var id int64
	update(t, st, func(tx service.Tx) (err error) {
		id, err = tx.InsertAgent(service.Agent{Name: name, Role: "agent", PasswordHash: "$argon2id$x", CreatedAt: t0}, nil)
		return err
	})
	return id
}

// proposal is a pending change of voter's e-mail, proposed by agent.
func proposal(voter, agent int64) service.ContactChange {
	return service.ContactChange{VoterID: voter, OldEmail: "old@example.org", NewEmail: "new@example.org",
		OldMobile: "+33612345678", Document: "passport", Reason: "au guichet", ProposedBy: agent,
		ProposedAt: t0, ExpiresAt: t0.Add(48 * time.Hour), State: service.ChangePending}
}

func insertChange(t *testing.T, st Store, c service.ContactChange) int64 {
	t.Helper()
	var id int64
	update(t, st, func(tx service.Tx) (err error) { id, err = tx.InsertContactChange(c); return err })
	return id
}

// testContactChangeStored: a proposal reads back as stored, one pending
// per voter, and the pending ones, oldest first, until they expire.
func testContactChangeStored(t *testing.T, st Store) {
	voter, other := addVoter(t, st, "123456"), addVoter(t, st, "654321")
	paul, rose := addAgent(t, st, "paul"), addAgent(t, st, "rose")
	in := proposal(voter, paul)
	in.NewMobile = "+33700000000"
	id := insertChange(t, st, in)

	// One pending proposal per voter; another voter is not concerned.
	err := st.Update(context.Background(), func(tx service.Tx) error {
		_, err := tx.InsertContactChange(proposal(voter, rose))
		return err
	})
	if !errors.Is(err, service.ErrConflict) {
		t.Errorf("a second pending proposal for the voter: %v, want service.ErrConflict", err)
	}
	otherID := insertChange(t, st, proposal(other, rose))

	view(t, st, func(tx service.Tx) error {
		c, err := tx.ContactChangeByID(id)
		if err != nil {
			return err
		}
		want := in
		want.ID, want.ProposedByName = id, "paul"
		if c.ID != want.ID || c.VoterID != voter || c.OldEmail != want.OldEmail || c.NewEmail != want.NewEmail ||
			c.OldMobile != want.OldMobile || c.NewMobile != want.NewMobile || c.Document != "passport" ||
			c.Reason != want.Reason || c.ProposedBy != paul || c.ProposedByName != "paul" || !c.ProposedAt.Equal(t0) ||
			!c.ExpiresAt.Equal(want.ExpiresAt) || c.State != service.ChangePending || c.DecidedBy != 0 ||
			c.DecidedByName != "" || !c.DecidedAt.IsZero() || c.DecisionReason != "" {
			t.Errorf("ContactChangeByID = %+v, want %+v", c, want)
		}
		_, err = tx.ContactChangeByID(id + 1000)
		wantNotFound(t, "ContactChangeByID of a missing proposal", err)
		ps, err := tx.PendingContactChanges(t0, 10)
		if err != nil || len(ps) != 2 || ps[0].ID != id || ps[1].ID != otherID {
			t.Errorf("PendingContactChanges = %+v, %v; want both, oldest first", ps, err)
		}
		if ps, err := tx.PendingContactChanges(t0.Add(48*time.Hour), 10); err != nil || len(ps) != 0 {
			t.Errorf("PendingContactChanges at their expiry = %+v, %v; want none", ps, err)
		}
		return nil
	})
}

// testContactChangeDecided: the proposer cannot approve, another agent
// can, once; decided, the voter may have a new proposal, which its
// proposer may withdraw; the voter's history is newest first.
func testContactChangeDecided(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	paul, rose := addAgent(t, st, "paul"), addAgent(t, st, "rose")
	id := insertChange(t, st, proposal(voter, paul))
	update(t, st, func(tx service.Tx) error {
		if ok, err := tx.DecideContactChange(id, service.ChangeApproved, paul, "", t0.Add(time.Hour)); err != nil || ok {
			t.Errorf("approval by the proposer = %v, %v; want false", ok, err)
		}
		if ok, err := tx.DecideContactChange(id, service.ChangeApproved, rose, "", t0.Add(time.Hour)); err != nil || !ok {
			t.Errorf("approval by another agent = %v, %v; want true", ok, err)
		}
		if ok, err := tx.DecideContactChange(id, service.ChangeRejected, rose, "non", t0.Add(time.Hour)); err != nil || ok {
			t.Errorf("a second decision = %v, %v; want false", ok, err)
		}
		c, err := tx.ContactChangeByID(id)
		if err != nil {
			return err
		}
		if c.State != service.ChangeApproved || c.DecidedBy != rose || c.DecidedByName != "rose" || !c.DecidedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("after approval: %+v", c)
		}
		return nil
	})
	next := insertChange(t, st, proposal(voter, rose))
	update(t, st, func(tx service.Tx) error {
		// The proposer may withdraw (not an approval).
		if ok, err := tx.DecideContactChange(next, service.ChangeWithdrawn, rose, "erreur de saisie", t0); err != nil || !ok {
			t.Errorf("withdrawal by the proposer = %v, %v; want true", ok, err)
		}
		cs, err := tx.VoterContactChanges(voter, 10)
		if err != nil || len(cs) != 2 || cs[0].ID != next || cs[1].ID != id {
			t.Fatalf("VoterContactChanges = %+v, %v", cs, err)
		}
		if cs[0].State != service.ChangeWithdrawn || cs[0].DecisionReason != "erreur de saisie" {
			t.Errorf("withdrawn proposal read back as %+v", cs[0])
		}
		return nil
	})
}

func testContactChangeExpiry(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	paul, rose := addAgent(t, st, "paul"), addAgent(t, st, "rose")
	id := insertChange(t, st, proposal(voter, paul))
	expiry := t0.Add(48 * time.Hour)
	update(t, st, func(tx service.Tx) error {
		// At its expiry exactly, a proposal can no longer be approved.
		if ok, err := tx.DecideContactChange(id, service.ChangeApproved, rose, "", expiry); err != nil || ok {
			t.Errorf("approval at the expiry = %v, %v; want false", ok, err)
		}
		if cs, err := tx.ExpireContactChanges(expiry.Add(-time.Nanosecond)); err != nil || len(cs) != 0 {
			t.Errorf("ExpireContactChanges before the expiry = %+v, %v", cs, err)
		}
		cs, err := tx.ExpireContactChanges(expiry)
		if err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].State != service.ChangeExpired || cs[0].ProposedByName != "paul" {
			t.Errorf("ExpireContactChanges = %+v, %v; want the proposal, expired", cs, err)
		}
		if cs, err := tx.ExpireContactChanges(expiry); err != nil || len(cs) != 0 {
			t.Errorf("ExpireContactChanges again = %+v, %v; want none", cs, err)
		}
		c, err := tx.ContactChangeByID(id)
		if err != nil || c.State != service.ChangeExpired {
			t.Errorf("after expiry: %+v, %v", c, err)
		}
		// Expired, it no longer holds the voter's one pending place.
		_, err = tx.InsertContactChange(proposal(voter, rose))
		return err
	})
}

func testContactChangeDecidedOnce(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	paul := addAgent(t, st, "paul")
	var agents []int64
	for _, n := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"} {
		agents = append(agents, addAgent(t, st, n))
	}
	id := insertChange(t, st, proposal(voter, paul))
	next := make(chan int64, 64)
	for i := range 64 {
		next <- agents[i%len(agents)]
	}
	won := concurrently(t, 64, func() (ok bool, err error) {
		agent := <-next
		state := service.ChangeApproved
		if agent%2 == 0 {
			state = service.ChangeRejected
		}
		err = st.Update(context.Background(), func(tx service.Tx) (err error) {
			ok, err = tx.DecideContactChange(id, state, agent, "", t0.Add(time.Minute))
			return err
		})
		return ok, err
	})
	if won != 1 {
		t.Fatalf("%d concurrent decisions took effect, want 1", won)
	}
	// Concurrent proposals for one voter: one is stored.
	other := addVoter(t, st, "654321")
	won = concurrently(t, 32, func() (bool, error) {
		err := st.Update(context.Background(), func(tx service.Tx) error {
			_, err := tx.InsertContactChange(proposal(other, paul))
			return err
		})
		if errors.Is(err, service.ErrConflict) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("%d concurrent proposals for one voter stored, want 1", won)
	}
}

func testSetContact(t *testing.T, st Store) {
	id := addVoter(t, st, "123456") // 123456@example.org, +33612345678
	at := t0.Add(time.Hour)
	update(t, st, func(tx service.Tx) error {
		// Only if what is on file is still what the proposal saw.
		if ok, err := tx.SetContact(id, "other@example.org", "+33612345678", "new@example.org", "+33612345678", at); err != nil || ok {
			t.Errorf("SetContact on a stale e-mail = %v, %v; want false", ok, err)
		}
		if ok, err := tx.SetContact(id, "123456@example.org", "+33612345678", "new@example.org", "+33612345678", at); err != nil || !ok {
			t.Errorf("SetContact = %v, %v; want true", ok, err)
		}
		v, err := tx.VoterByID(id)
		if err != nil {
			return err
		}
		if v.Email != "new@example.org" || v.Mobile != "+33612345678" || !v.EmailByDesk.Equal(at) || !v.MobileByDesk.IsZero() {
			t.Errorf("after an e-mail change: %+v; want the e-mail marked set by the desk, not the mobile", v)
		}
		if ok, err := tx.SetContact(id, "123456@example.org", "+33612345678", "x@example.org", "+33612345678", at); err != nil || ok {
			t.Errorf("SetContact with the old values again = %v, %v; want false", ok, err)
		}
		return nil
	})
}

func testRollKeepsDeskContact(t *testing.T, st Store) {
	id := addVoter(t, st, "123456")
	desk := t0.Add(time.Hour)
	update(t, st, func(tx service.Tx) error {
		_, err := tx.SetContact(id, "123456@example.org", "+33612345678", "desk@example.org", "+33700000000", desk)
		return err
	})
	roll := func(email, mobile string) service.Voter {
		var v service.Voter
		update(t, st, func(tx service.Tx) error {
			got, err := tx.VotersByNUMIC([]string{"123456"})
			if err != nil {
				return err
			}
			r := got["123456"]
			r.Email, r.Mobile, r.LastName = email, mobile, "NOUVEAU"
			if err := tx.UpdateRollData(r); err != nil {
				return err
			}
			v, err = tx.VoterByID(id)
			return err
		})
		return v
	}
	// The roll brings back the old values: the desk's stay, marked.
	v := roll("123456@example.org", "+33612345678")
	if v.Email != "desk@example.org" || v.Mobile != "+33700000000" || v.LastName != "NOUVEAU" ||
		!v.EmailByDesk.Equal(desk) || !v.MobileByDesk.Equal(desk) {
		t.Fatalf("after a roll with the old values: %+v; want the desk's kept, the name updated", v)
	}
	// The roll agrees on the e-mail: its mark ends; the mobile's stays.
	v = roll("desk@example.org", "+33612345678")
	if v.Email != "desk@example.org" || !v.EmailByDesk.IsZero() || v.Mobile != "+33700000000" || !v.MobileByDesk.Equal(desk) {
		t.Fatalf("after a roll agreeing on the e-mail: %+v", v)
	}
	// From then on the roll's e-mail applies again.
	v = roll("later@example.org", "+33612345678")
	if v.Email != "later@example.org" || v.Mobile != "+33700000000" {
		t.Fatalf("after a later roll: %+v; want its e-mail, the desk's mobile", v)
	}
	view(t, st, func(tx service.Tx) error {
		got, err := tx.VotersByNUMIC([]string{"123456"})
		if err != nil {
			return err
		}
		if r := got["123456"]; !r.EmailByDesk.IsZero() || !r.MobileByDesk.Equal(desk) {
			t.Errorf("VotersByNUMIC marks: %+v", r)
		}
		return nil
	})
}

// testLockAddress: transactions that lock one address's key and then
// check before they write run one after the other, whatever the
// isolation: of many at once that each store a voter with the address
// only if no voter has it, one stores. In a read transaction the lock is
// allowed and does nothing.
func testLockAddress(t *testing.T, st Store) {
	const n, email = 16, "shared@example.org"
	key := []byte("the address's keyed hash")
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			errs <- st.Update(context.Background(), func(tx service.Tx) error {
				if err := tx.LockAddress(key); err != nil {
					return err
				}
				vs, err := tx.FindVoters("", email, 10)
				if err != nil || len(vs) > 0 {
					return err
				}
				_, err = tx.InsertVoter(service.Voter{NUMIC: fmt.Sprintf("%08d", 100+i), Email: email, Lang: "fr"})
				return err
			})
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	view(t, st, func(tx service.Tx) error {
		if err := tx.LockAddress(key); err != nil {
			return err
		}
		vs, err := tx.FindVoters("", email, 100)
		if len(vs) != 1 {
			t.Errorf("%d voters stored with the address by %d transactions that locked it first; want 1", len(vs), n)
		}
		return err
	})
}
