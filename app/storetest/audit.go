package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"consulvote/app/service"
)

// row makes the audit row that follows (id-1, prev); the store keeps
// hashes as given, so any 32 bytes do.
func row(id int64, prev []byte, e service.AuditEntry) service.AuditRow {
	return service.AuditRow{ID: id, AuditEntry: e, PrevHash: prev, Hash: bytes.Repeat([]byte{byte(id)}, 32)}
}

func testAuditAppend(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	entries := []service.AuditEntry{
		{At: t0, Actor: "anonymous", Action: "login.failed", Detail: "unknown identifier"},
		{At: t0.Add(time.Nanosecond), Actor: "voter:1", Action: "login", VoterID: voter},
		{At: t0.Add(time.Second), Actor: "agent:paul", Action: "voter.unlocked", VoterID: voter, Detail: "reason: appel"},
	}
	view(t, st, func(tx service.Tx) error {
		if id, hash, err := tx.LastAudit(); id != 0 || hash != nil || err != nil {
			t.Errorf("LastAudit of an empty log = %d, %x, %v; want 0, nil, nil", id, hash, err)
		}
		return nil
	})
	var want []service.AuditRow
	update(t, st, func(tx service.Tx) error {
		var prev []byte
		for i, e := range entries {
			r := row(int64(i+1), prev, e)
			if err := tx.AppendAudit(r); err != nil {
				return err
			}
			want, prev = append(want, r), r.Hash
		}
		return nil
	})
	view(t, st, func(tx service.Tx) error {
		id, hash, err := tx.LastAudit()
		if id != 3 || !bytes.Equal(hash, want[2].Hash) || err != nil {
			t.Errorf("LastAudit = %d, %x, %v", id, hash, err)
		}
		var got []service.AuditRow
		if err := tx.AuditRows(func(r service.AuditRow) error { got = append(got, r); return nil }); err != nil {
			return err
		}
		if len(got) != len(want) {
			t.Fatalf("AuditRows gave %d rows, want %d", len(got), len(want))
		}
		for i, r := range got {
			w := want[i]
			// Exact to the nanosecond: the chain hashes the time.
			if r.ID != w.ID || !r.At.Equal(w.At) || r.Actor != w.Actor || r.Action != w.Action || r.VoterID != w.VoterID ||
				r.Detail != w.Detail || !bytes.Equal(r.PrevHash, w.PrevHash) || !bytes.Equal(r.Hash, w.Hash) {
				t.Errorf("row %d = %+v, want %+v", i+1, r, w)
			}
		}
		hist, err := tx.VoterHistory(voter, 10)
		if err != nil || len(hist) != 2 || hist[0].Action != "voter.unlocked" || hist[1].Action != "login" || !hist[1].At.Equal(entries[1].At) {
			t.Errorf("VoterHistory = %+v, %v; want the voter's 2 entries, newest first", hist, err)
		}
		stop := fmt.Errorf("stop")
		n := 0
		if err := tx.AuditRows(func(service.AuditRow) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("AuditRows went on after fn failed (%d calls), or lost its error (%v)", n, err)
		}
		return nil
	})
}

func testAuditNoFork(t *testing.T, st Store) {
	update(t, st, func(tx service.Tx) error {
		return tx.AppendAudit(row(1, nil, service.AuditEntry{At: t0, Actor: "system", Action: "a"}))
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		return tx.AppendAudit(row(1, nil, service.AuditEntry{At: t0, Actor: "system", Action: "b"}))
	})
	if err == nil {
		t.Fatal("a second audit row with id 1 was stored: the chain can fork")
	}
	// Many writers, each reading the tail and appending after it, in one
	// transaction each: every append lands, none forks the chain.
	const n = 16
	concurrently(t, n, func() (bool, error) {
		return true, st.Update(context.Background(), func(tx service.Tx) error {
			id, prev, err := tx.LastAudit()
			if err != nil {
				return err
			}
			return tx.AppendAudit(row(id+1, prev, service.AuditEntry{At: t0, Actor: "system", Action: "c"}))
		})
	})
	view(t, st, func(tx service.Tx) error {
		var prev []byte
		rows := 0
		err := tx.AuditRows(func(r service.AuditRow) error {
			rows++
			if r.ID != int64(rows) || !bytes.Equal(r.PrevHash, prev) {
				t.Errorf("row %d (number %d) does not follow the one before", r.ID, rows)
			}
			prev = r.Hash
			return nil
		})
		if err != nil || rows != n+1 {
			t.Errorf("%d rows, %v; want %d", rows, err, n+1)
		}
		return nil
	})
}

func testAuditSearch(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	update(t, st, func(tx service.Tx) error {
		var prev []byte
		for i, e := range []service.AuditEntry{
			{Actor: "agent:paul", Action: "voter.unlocked", VoterID: voter},
			{Actor: "agent:paula", Action: "outbox.retry"},
			{Actor: "agent:100%", Action: "voter.links_cancelled", VoterID: voter},
			{Actor: "voter:1", Action: "login", VoterID: voter},
		} {
			e.At = t0
			r := row(int64(i+1), prev, e)
			if err := tx.AppendAudit(r); err != nil {
				return err
			}
			prev = r.Hash
		}
		return nil
	})
	view(t, st, func(tx service.Tx) error {
		for _, c := range []struct {
			actor, action string
			voter         int64
			want          []string // actions, newest first
		}{
			{"", "", 0, []string{"login", "voter.links_cancelled", "outbox.retry", "voter.unlocked"}},
			{"paul", "", 0, []string{"outbox.retry", "voter.unlocked"}},
			{"agent:", "voter.", 0, []string{"voter.links_cancelled", "voter.unlocked"}},
			{"", "", voter, []string{"login", "voter.links_cancelled", "voter.unlocked"}},
			{"agent", "", voter, []string{"voter.links_cancelled", "voter.unlocked"}},
			{"100%", "", 0, []string{"voter.links_cancelled"}}, // % is a character, not a wildcard
			{"_", "", 0, nil},
		} {
			es, err := tx.AuditSearch(c.actor, c.action, c.voter, 10)
			var got []string
			for _, e := range es {
				got = append(got, e.Action)
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("AuditSearch(%q, %q, %d) = %v, %v; want %v", c.actor, c.action, c.voter, got, err, c.want)
			}
		}
		if es, _ := tx.AuditSearch("", "", 0, 2); len(es) != 2 {
			t.Errorf("AuditSearch with limit 2 gave %d", len(es))
		}
		return nil
	})
}

func testCheckpoints(t *testing.T, st Store) {
	view(t, st, func(tx service.Tx) error {
		if cs, err := tx.Checkpoints(); err != nil || len(cs) != 0 {
			t.Errorf("Checkpoints of an empty log = %v, %v", cs, err)
		}
		return nil
	})
	want := []service.Checkpoint{
		{Seq: 1, AuditID: 7, Hash: []byte("h7"), MAC: []byte("m7"), At: t0},
		{Seq: 2, AuditID: 3, Hash: []byte("h3"), MAC: []byte("m3"), At: t0.Add(time.Minute)},
	}
	update(t, st, func(tx service.Tx) error {
		for _, c := range want {
			if err := tx.InsertCheckpoint(c); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, st, func(tx service.Tx) error {
		cs, err := tx.Checkpoints()
		if err != nil || len(cs) != 2 {
			t.Fatalf("Checkpoints = %v, %v", cs, err)
		}
		for i, c := range cs {
			w := want[i]
			if c.Seq != w.Seq || c.AuditID != w.AuditID || !bytes.Equal(c.Hash, w.Hash) || !bytes.Equal(c.MAC, w.MAC) || !c.At.Equal(w.At) {
				t.Errorf("checkpoint %d = %+v, want %+v (in insertion order)", i, c, w)
			}
		}
		return nil
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		return tx.InsertCheckpoint(service.Checkpoint{Seq: 2, AuditID: 9, Hash: []byte("h9"), MAC: []byte("m9"), At: t0})
	})
	if err == nil {
		t.Error("a second checkpoint with Seq 2 was stored")
	}
	// The one-time move to the keyed chain replaces hashes and checkpoints.
	update(t, st, func(tx service.Tx) error {
		if err := tx.AppendAudit(service.AuditRow{ID: 1, AuditEntry: service.AuditEntry{At: t0, Actor: "system", Action: "x"},
			Hash: []byte("old")}); err != nil {
			return err
		}
		return tx.RechainAudit([]service.AuditRow{{ID: 1, Hash: []byte("new")}},
			[]service.Checkpoint{{Seq: 1, AuditID: 1, Hash: []byte("new"), MAC: []byte("m"), At: t0}})
	})
	view(t, st, func(tx service.Tx) error {
		_, h, err := tx.LastAudit()
		cs, err2 := tx.Checkpoints()
		if err != nil || err2 != nil || string(h) != "new" || len(cs) != 1 || string(cs[0].Hash) != "new" {
			t.Errorf("after RechainAudit: hash %q, checkpoints %+v, %v %v", h, cs, err, err2)
		}
		return nil
	})
}

func testAgents(t *testing.T, st Store) {
	var id int64
	update(t, st, func(tx service.Tx) (err error) {
		id, err = tx.InsertAgent(service.Agent{Name: "paul", Role: "admin", PasswordHash: "$argon2id$p", CreatedAt: t0})
		return err
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		_, err := tx.InsertAgent(service.Agent{Name: "paul", Role: "agent", PasswordHash: "x", CreatedAt: t0})
		return err
	})
	if err == nil {
		t.Error("two agents named paul were stored")
	}
	err = st.Update(context.Background(), func(tx service.Tx) error {
		_, err := tx.InsertAgent(service.Agent{Name: "eve", Role: "root", PasswordHash: "x", CreatedAt: t0})
		return err
	})
	if err == nil {
		t.Error("an agent with role root was stored")
	}
	update(t, st, func(tx service.Tx) error {
		a, err := tx.AgentByName("paul")
		if err != nil || a.ID != id || a.Role != "admin" || a.PasswordHash != "$argon2id$p" || !a.CreatedAt.Equal(t0) {
			t.Errorf("AgentByName = %+v, %v", a, err)
		}
		_, err = tx.AgentByName("nobody")
		wantNotFound(t, "AgentByName of an unknown name", err)
		return nil
	})
	update(t, st, func(tx service.Tx) error {
		if err := tx.InsertAgentSession(service.AgentSessionRow{TokenHash: []byte("s"), AgentID: id, CreatedAt: t0,
			ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return err
		}
		a, expires, err := tx.AgentBySession([]byte("s"))
		if err != nil || a.ID != id || a.Name != "paul" || a.Role != "admin" || !expires.Equal(t0.Add(time.Hour)) {
			t.Errorf("AgentBySession = %+v, %v, %v", a, expires, err)
		}
		if err := tx.DeleteAgentSession([]byte("s")); err != nil {
			return err
		}
		_, _, err = tx.AgentBySession([]byte("s"))
		wantNotFound(t, "AgentBySession after DeleteAgentSession", err)
		return nil
	})

	// A second factor reset: a new secret, and nothing the old one
	// allowed — its last step, its recovery codes, the agent's sessions —
	// while another agent keeps its own.
	var rita int64
	update(t, st, func(tx service.Tx) (err error) {
		if rita, err = tx.InsertAgent(service.Agent{Name: "rita", Role: "agent", PasswordHash: "x", CreatedAt: t0,
			TOTPSecret: []byte("old")}); err != nil {
			return err
		}
		for _, c := range []string{"r1", "r2"} {
			if err := tx.InsertRecoveryCode(rita, []byte(c)); err != nil {
				return err
			}
		}
		for who, tok := range map[int64][]string{rita: {"rita1", "rita2"}, id: {"paul1"}} {
			for _, s := range tok {
				if err := tx.InsertAgentSession(service.AgentSessionRow{TokenHash: []byte(s), AgentID: who, CreatedAt: t0,
					ExpiresAt: t0.Add(time.Hour)}); err != nil {
					return err
				}
			}
		}
		if err := tx.InsertRecoveryCode(id, []byte("p1")); err != nil {
			return err
		}
		_, err = tx.UseTOTPStep(rita, 100)
		return err
	})
	update(t, st, func(tx service.Tx) error {
		n, err := tx.ResetSecondFactor(rita, []byte("new"))
		if err != nil || n != 2 {
			t.Errorf("ResetSecondFactor = %d sessions, %v; want 2", n, err)
		}
		_, err = tx.ResetSecondFactor(rita+id+100, []byte("x"))
		wantNotFound(t, "ResetSecondFactor of an unknown agent", err)
		return nil
	})
	update(t, st, func(tx service.Tx) error {
		if a, err := tx.AgentByName("rita"); err != nil || string(a.TOTPSecret) != "new" {
			t.Errorf("after the reset: secret %q, %v", a.TOTPSecret, err)
		}
		for _, c := range []string{"r1", "r2"} {
			if ok, err := tx.TakeRecoveryCode(rita, []byte(c)); ok || err != nil {
				t.Errorf("old recovery code %s taken after the reset (%v)", c, err)
			}
		}
		for _, s := range []string{"rita1", "rita2"} {
			_, _, err := tx.AgentBySession([]byte(s))
			wantNotFound(t, "a session after the reset", err)
		}
		if ok, err := tx.UseTOTPStep(rita, 50); !ok || err != nil {
			t.Errorf("the new secret's first step refused after the reset: %v", err)
		}
		if a, _, err := tx.AgentBySession([]byte("paul1")); err != nil || a.ID != id {
			t.Errorf("another agent's session: %+v, %v", a, err)
		}
		if ok, err := tx.TakeRecoveryCode(id, []byte("p1")); !ok || err != nil {
			t.Errorf("another agent's recovery code: %v, %v", ok, err)
		}
		return nil
	})
}

// testThrottles: a key gets max attempts per window, a block at the
// window's last failure that doubles with each block, and a success
// forgets it; of many concurrent reservations, max succeed.
func testThrottles(t *testing.T, st Store) {
	key := []byte("agent\x00paul\x00192.0.2.1")
	reserve := func(at time.Time) (n int, until time.Time) {
		t.Helper()
		update(t, st, func(tx service.Tx) (err error) {
			n, until, err = tx.ReserveThrottled(key, at, 3, time.Hour)
			return err
		})
		return n, until
	}
	fail := func(n int, at time.Time) (until time.Time) {
		t.Helper()
		update(t, st, func(tx service.Tx) (err error) {
			until, err = tx.ThrottleFailed(key, n, 3, at, time.Minute, 10*time.Minute)
			return err
		})
		return until
	}
	at := t0
	for block, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute} {
		for i := 1; i <= 3; i++ {
			n, _ := reserve(at)
			if n != i {
				t.Fatalf("block %d: reservation %d numbered %d", block, i, n)
			}
			if until := fail(n, at); (i < 3) != until.IsZero() || (i == 3 && !until.Equal(at.Add(want))) {
				t.Fatalf("block %d, failure %d: blocked until %v, want %v", block, i, until, at.Add(want))
			}
		}
		if n, until := reserve(at.Add(want - time.Nanosecond)); n != 0 || !until.Equal(at.Add(want)) {
			t.Fatalf("block %d: reservation while blocked: %d until %v", block, n, until)
		}
		at = at.Add(want)
	}
	update(t, st, func(tx service.Tx) error { return tx.ThrottleSucceeded(key) })
	n, _ := reserve(at)
	if until := fail(n, at); !until.IsZero() {
		t.Errorf("after a success the first failure blocked until %v", until)
	}
	n, _ = reserve(at)
	update(t, st, func(tx service.Tx) error { return tx.ReleaseThrottled(key) })
	if n2, _ := reserve(at); n2 != n {
		t.Errorf("after a release: attempt %d, want %d again", n2, n)
	}

	other := []byte("other")
	const c, max = 32, 4
	got := make(chan int, c)
	concurrently(t, c, func() (bool, error) {
		return false, st.Update(context.Background(), func(tx service.Tx) error {
			n, _, err := tx.ReserveThrottled(other, t0, max, time.Hour)
			got <- n
			return err
		})
	})
	close(got)
	reserved := 0
	for n := range got {
		if n != 0 {
			reserved++
		}
	}
	if reserved != max {
		t.Errorf("%d of %d concurrent reservations succeeded, want %d", reserved, c, max)
	}
}
