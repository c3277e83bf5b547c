package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// Chains the tests register (any ids will do: the service draws random
// ones).
const (
	chainA int64 = 0x1111
	chainB int64 = 0x2222
)

// row makes the audit row at seq of chain, after prev; the store keeps
// hashes as given, so any 32 bytes do.
func row(chain, seq int64, prev []byte, e service.AuditEntry) service.AuditRow {
	return service.AuditRow{Chain: chain, Seq: seq, AuditEntry: e, PrevHash: prev,
		Hash: bytes.Repeat([]byte{byte(chain), byte(seq)}, 16)}
}

func startChain(t *testing.T, st Store, ids ...int64) {
	t.Helper()
	update(t, st, func(tx service.Tx) error {
		for _, id := range ids {
			if err := tx.StartAuditChain(service.AuditChain{ID: id, StartedAt: t0, Origin: "test"}); err != nil {
				return err
			}
		}
		return nil
	})
}

// allRows reads every row, as AuditRows gives them.
func allRows(t *testing.T, st Store) []service.AuditRow {
	t.Helper()
	var rows []service.AuditRow
	view(t, st, func(tx service.Tx) error {
		return tx.AuditRows(func(r service.AuditRow) error { rows = append(rows, r); return nil })
	})
	return rows
}

// testAuditAppend: rows come back as given, each chain in order, however
// their inserts interleaved; the history views see them newest first, in
// the order they were inserted (AuditRow.ID).
func testAuditAppend(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	view(t, st, func(tx service.Tx) error {
		if seq, hash, err := tx.AuditTail(chainA); seq != 0 || hash != nil || err != nil {
			t.Errorf("AuditTail of an empty chain = %d, %x, %v; want 0, nil, nil", seq, hash, err)
		}
		return nil
	})
	startChain(t, st, chainB, chainA)
	entries := []service.AuditEntry{
		{At: t0, Actor: "anonymous", Action: "login.failed", Detail: "unknown identifier"},
		{At: t0.Add(time.Nanosecond), Actor: "voter:1", Action: "login", VoterID: voter},
		{At: t0.Add(time.Second), Actor: "agent:paul", Action: "voter.unlocked", VoterID: voter, Detail: "reason: appel"},
		{At: t0.Add(2 * time.Second), Actor: "system", Action: "x"},
	}
	// Inserted A1, B1, A2, B2, in that order, one transaction each.
	want := map[int64][]service.AuditRow{}
	for i, e := range entries {
		chain := []int64{chainA, chainB}[i%2]
		var prev []byte
		if n := len(want[chain]); n > 0 {
			prev = want[chain][n-1].Hash
		}
		r := row(chain, int64(len(want[chain])+1), prev, e)
		update(t, st, func(tx service.Tx) error { return tx.AppendAudit(r) })
		want[chain] = append(want[chain], r)
	}
	got := allRows(t, st)
	if len(got) != 4 {
		t.Fatalf("AuditRows gave %d rows, want 4", len(got))
	}
	order := append(append([]service.AuditRow{}, want[chainA]...), want[chainB]...) // by chain, then seq
	for i, r := range got {
		w := order[i]
		// Exact to the nanosecond: the chain hashes the time.
		if r.Chain != w.Chain || r.Seq != w.Seq || !r.At.Equal(w.At) || r.Actor != w.Actor || r.Action != w.Action ||
			r.VoterID != w.VoterID || r.Detail != w.Detail || !bytes.Equal(r.PrevHash, w.PrevHash) || !bytes.Equal(r.Hash, w.Hash) {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	// IDs number the rows in the order they were inserted.
	if !(got[0].ID < got[2].ID && got[2].ID < got[1].ID && got[1].ID < got[3].ID) {
		t.Errorf("IDs %d %d %d %d do not follow the inserts A1 B1 A2 B2", got[0].ID, got[2].ID, got[1].ID, got[3].ID)
	}
	view(t, st, func(tx service.Tx) error {
		seq, hash, err := tx.AuditTail(chainB)
		if seq != 2 || !bytes.Equal(hash, want[chainB][1].Hash) || err != nil {
			t.Errorf("AuditTail(B) = %d, %x, %v", seq, hash, err)
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

// testAuditNoFork: a place in a chain is taken once, whoever tries, and a
// row needs a registered chain.
func testAuditNoFork(t *testing.T, st Store) {
	startChain(t, st, chainA)
	update(t, st, func(tx service.Tx) error {
		return tx.AppendAudit(row(chainA, 1, nil, service.AuditEntry{At: t0, Actor: "system", Action: "a"}))
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		return tx.AppendAudit(row(chainA, 1, nil, service.AuditEntry{At: t0, Actor: "system", Action: "b"}))
	})
	if err == nil {
		t.Fatal("a second audit row at row 1 of a chain was stored: the chain can fork")
	}
	// The service drops a chain only for that refusal (not for a retryable
	// failure): it must be told apart.
	if !errors.Is(err, service.ErrConflict) {
		t.Errorf("a second audit row at row 1: %v; want ErrConflict", err)
	}
	err = st.Update(context.Background(), func(tx service.Tx) error {
		return tx.AppendAudit(row(chainB, 1, nil, service.AuditEntry{At: t0, Actor: "system", Action: "c"}))
	})
	if !errors.Is(err, service.ErrConflict) {
		t.Errorf("a row of a chain nobody registered: %v; want ErrConflict (the row refused: its chain is dropped)", err)
	}
	err = st.Update(context.Background(), func(tx service.Tx) error {
		return tx.StartAuditChain(service.AuditChain{ID: chainA, StartedAt: t0})
	})
	if !errors.Is(err, service.ErrConflict) {
		t.Errorf("a chain registered twice: %v; want ErrConflict", err)
	}
	// Writers racing for one place: one wins.
	const n = 16
	won := concurrently(t, n, func() (bool, error) {
		err := st.Update(context.Background(), func(tx service.Tx) error {
			return tx.AppendAudit(row(chainA, 2, nil, service.AuditEntry{At: t0, Actor: "system", Action: "race"}))
		})
		if err != nil && !errors.Is(err, service.ErrConflict) {
			return false, fmt.Errorf("a writer that lost the place: %w; want ErrConflict", err)
		}
		return err == nil, nil
	})
	if won != 1 {
		t.Errorf("%d of %d writers stored row 2 of one chain", won, n)
	}
}

func testAuditSearch(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	startChain(t, st, chainA)
	update(t, st, func(tx service.Tx) error {
		var prev []byte
		for i, e := range []service.AuditEntry{
			{Actor: "agent:paul", Action: "voter.unlocked", VoterID: voter},
			{Actor: "agent:paula", Action: "outbox.retry"},
			{Actor: "agent:100%", Action: "voter.links_cancelled", VoterID: voter},
			{Actor: "voter:1", Action: "login", VoterID: voter},
		} {
			e.At = t0
			r := row(chainA, int64(i+1), prev, e)
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

// testAuditChains: registered chains are unsealed until a checkpoint's
// tail seals them; a tail that does not seal leaves the chain to sign.
// The migration's mark of rows to move is absent from a log that had none.
func testAuditChains(t *testing.T, st Store) {
	view(t, st, func(tx service.Tx) error {
		if ids, err := tx.UnsealedAuditChains(); err != nil || len(ids) != 0 {
			t.Errorf("UnsealedAuditChains of an empty log = %v, %v", ids, err)
		}
		if n, last, err := tx.AuditUpgrade(); n != 0 || last != 0 || err != nil {
			t.Errorf("AuditUpgrade of a new log = %d, %d, %v; want nothing to move", n, last, err)
		}
		return nil
	})
	startChain(t, st, chainB, chainA)
	update(t, st, func(tx service.Tx) error {
		return tx.InsertCheckpoint(service.Checkpoint{Seq: 1, At: t0, MAC: []byte("m"), Tails: []service.ChainTail{
			{Chain: chainA, Seq: 1, Hash: []byte("a1")},
			{Chain: chainB, Seq: 1, Hash: []byte("b1"), Sealed: true},
		}})
	})
	view(t, st, func(tx service.Tx) error {
		if ids, err := tx.UnsealedAuditChains(); err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{chainA}) {
			t.Errorf("UnsealedAuditChains after sealing B = %v, %v; want [A]", ids, err)
		}
		if ids, err := tx.AuditChains(); err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{chainA, chainB}) {
			t.Errorf("AuditChains = %v, %v; want [A B], sealed or not", ids, err)
		}
		var tails []service.ChainTail
		err := tx.Checkpoints(func(c service.Checkpoint) error { tails = append(tails, c.Tails...); return nil })
		if err != nil || len(tails) != 2 || tails[0].Sealed == tails[1].Sealed {
			t.Errorf("Checkpoints' tails = %+v, %v; want one sealed, one not", tails, err)
		}
		return nil
	})
	update(t, st, func(tx service.Tx) error { return tx.EndAuditUpgrade() }) // nothing to forget: no error
}

func testCheckpoints(t *testing.T, st Store) {
	view(t, st, func(tx service.Tx) error {
		c, err := tx.LastCheckpoint()
		if err != nil || c.Seq != 0 || c.MAC != nil {
			t.Errorf("LastCheckpoint of an empty log = %+v, %v", c, err)
		}
		if seq, h, err := tx.SignedTail(chainA); seq != 0 || h != nil || err != nil {
			t.Errorf("SignedTail with no checkpoint = %d, %x, %v", seq, h, err)
		}
		return nil
	})
	want := []service.Checkpoint{
		{Seq: 1, At: t0, MAC: []byte("m1"), Tails: []service.ChainTail{{Chain: chainA, Seq: 7, Hash: []byte("a7")}, {Chain: chainB, Seq: 3, Hash: []byte("b3")}}},
		{Seq: 2, At: t0.Add(time.Minute), MAC: []byte("m2"), Tails: []service.ChainTail{{Chain: chainA, Seq: 9, Hash: []byte("a9")}}},
		{Seq: 3, At: t0.Add(2 * time.Minute), MAC: []byte("m3")}, // no tail: stored and read all the same
	}
	update(t, st, func(tx service.Tx) error {
		for _, c := range want {
			if err := tx.InsertCheckpoint(c); err != nil {
				return err
			}
		}
		return nil
	})
	var got []service.Checkpoint
	view(t, st, func(tx service.Tx) error {
		return tx.Checkpoints(func(c service.Checkpoint) error { got = append(got, c); return nil })
	})
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("Checkpoints = %+v\nwant %+v", got, want)
	}
	var after []service.Checkpoint
	view(t, st, func(tx service.Tx) error {
		if mac, err := tx.CheckpointMAC(2); err != nil || string(mac) != "m2" {
			t.Errorf("CheckpointMAC(2) = %q, %v", mac, err)
		}
		if mac, err := tx.CheckpointMAC(4); err != nil || mac != nil {
			t.Errorf("CheckpointMAC(4), none stored = %q, %v", mac, err)
		}
		return tx.CheckpointsAfter(1, func(c service.Checkpoint) error { after = append(after, c); return nil })
	})
	if fmt.Sprintf("%+v", after) != fmt.Sprintf("%+v", want[1:]) {
		t.Errorf("CheckpointsAfter(1) = %+v\nwant %+v", after, want[1:])
	}
	view(t, st, func(tx service.Tx) error {
		c, err := tx.LastCheckpoint()
		if err != nil || c.Seq != 3 || string(c.MAC) != "m3" || !c.At.Equal(want[2].At) {
			t.Errorf("LastCheckpoint = %+v, %v", c, err)
		}
		if seq, h, err := tx.SignedTail(chainA); seq != 9 || string(h) != "a9" || err != nil {
			t.Errorf("SignedTail(A) = %d, %q, %v; want its newest, 9", seq, h, err)
		}
		if seq, h, err := tx.SignedTail(chainB); seq != 3 || string(h) != "b3" || err != nil {
			t.Errorf("SignedTail(B) = %d, %q, %v", seq, h, err)
		}
		if cs, err := tx.LegacyCheckpoints(); err != nil || len(cs) != 0 {
			t.Errorf("LegacyCheckpoints = %v, %v", cs, err)
		}
		return nil
	})
	err := st.Update(context.Background(), func(tx service.Tx) error {
		return tx.InsertCheckpoint(service.Checkpoint{Seq: 2, At: t0, MAC: []byte("m")})
	})
	if err == nil {
		t.Error("a second checkpoint with Seq 2 was stored")
	}
	// Checkpoints queue: of concurrent writers each reading the last and
	// inserting the next, none is refused and none is lost.
	const n = 8
	concurrently(t, n, func() (bool, error) {
		return true, st.Update(context.Background(), func(tx service.Tx) error {
			last, err := tx.LastCheckpoint()
			if err != nil {
				return err
			}
			return tx.InsertCheckpoint(service.Checkpoint{Seq: last.Seq + 1, At: t0, MAC: []byte("m")})
		})
	})
	view(t, st, func(tx service.Tx) error {
		if c, err := tx.LastCheckpoint(); err != nil || c.Seq != 3+n {
			t.Errorf("after %d concurrent checkpoints the last is %d, %v", n, c.Seq, err)
		}
		return nil
	})
}

// Tamperer is a store whose tables the suite can change behind the
// service's back, as an intruder with write access to the database but
// not the key file would: Tamper runs one SQL statement. Both stores'
// tests give it; the audit tests that need it fail without it.
type Tamperer interface {
	Tamper(ctx context.Context, sql string) error
}

func tamper(t *testing.T, st Store, sql string) {
	t.Helper()
	tp, ok := st.(Tamperer)
	if !ok {
		t.Fatalf("the store under test does not implement storetest.Tamperer")
	}
	if err := tp.Tamper(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// testMoveAuditRows: the rows of an older version's single chain (no
// chain) come first and move into a chain by ID, and its checkpoints go.
func testMoveAuditRows(t *testing.T, st Store) {
	// Old rows are there before the migration that numbers new rows past
	// them (each store tests that); here, ids no new row takes.
	tamper(t, st, `INSERT INTO audit (id, at, actor, action, detail) VALUES (900001, 1, 'system', 'old.one', '')`)
	tamper(t, st, `INSERT INTO audit (id, at, actor, action, detail) VALUES (900002, 2, 'system', 'old.two', '')`)
	tamper(t, st, `INSERT INTO audit_checkpoints (id, audit_id, hash, mac, at) VALUES (1, 900002, 'h', 'm', 3)`)
	startChain(t, st, chainA)
	update(t, st, func(tx service.Tx) error {
		return tx.AppendAudit(row(chainA, 1, nil, service.AuditEntry{At: t0, Actor: "system", Action: "new"}))
	})
	got := allRows(t, st)
	if len(got) != 3 || got[0].Chain != 0 || got[0].ID != 900001 || got[1].ID != 900002 || got[1].Action != "old.two" || got[2].Chain != chainA {
		t.Fatalf("AuditRows = %+v; want the two old rows (chain 0) first, by id", got)
	}
	view(t, st, func(tx service.Tx) error {
		cs, err := tx.LegacyCheckpoints()
		if err != nil || len(cs) != 1 || cs[0].Seq != 1 || cs[0].AuditID != 900002 || string(cs[0].MAC) != "m" || cs[0].At.UnixNano() != 3 {
			t.Errorf("LegacyCheckpoints = %+v, %v", cs, err)
		}
		return nil
	})
	startChain(t, st, chainB)
	update(t, st, func(tx service.Tx) error {
		return tx.MoveAuditRows([]service.AuditRow{
			{ID: 900001, Chain: chainB, Seq: 1, Hash: []byte("h1")},
			{ID: 900002, Chain: chainB, Seq: 2, PrevHash: []byte("h1"), Hash: []byte("h2")},
		})
	})
	got = allRows(t, st)
	if len(got) != 3 || got[0].Chain != chainA || got[1].Chain != chainB || got[1].Seq != 1 || got[2].Seq != 2 ||
		got[2].Action != "old.two" || string(got[2].PrevHash) != "h1" || string(got[2].Hash) != "h2" {
		t.Errorf("after MoveAuditRows: %+v", got)
	}
	view(t, st, func(tx service.Tx) error {
		if cs, err := tx.LegacyCheckpoints(); err != nil || len(cs) != 0 {
			t.Errorf("old checkpoints left after the move: %v, %v", cs, err)
		}
		return nil
	})
}

// sevens is a random source of 7s: as the services' CodeRand it makes
// every security code 7777.
type sevens struct{}

func (sevens) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

// instances returns n services on st, as n server instances on one
// database are.
func instances(t *testing.T, st Store, n int) []*service.Service {
	t.Helper()
	return instancesAt(t, st, n, nil)
}

// instancesAt is instances with a clock (nil: the system's).
func instancesAt(t *testing.T, st Store, n int, clock service.Clock) []*service.Service {
	t.Helper()
	cfg := service.DefaultConfig()
	cfg.Secret = bytes.Repeat([]byte("k"), 32)
	cfg.PublicURL = "https://vote.example"
	cfg.RequestFloor = 0
	var svcs []*service.Service
	for range n {
		svc, err := service.New(st, cfg, service.Options{CodeRand: sevens{}, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	return svcs
}

// audited makes svc audit one row: a renewal request for a NUMIC nobody
// has (the audit's "no_match").
func audited(svc *service.Service, numic int) error {
	ctx := context.Background()
	code, err := svc.NewSecurityCode(ctx)
	if err != nil {
		return err
	}
	return svc.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", numic),
		Email: "nobody@example.org", CodeID: code.ID, Code: "7777"})
}

// testChainsAcrossInstances: several instances audit at once, many
// transactions each; every row lands in a chain of its writer, no chain
// forks or has a gap, and the log verifies with every row signed once the
// instances finished.
func testChainsAcrossInstances(t *testing.T, st Store) {
	const nInst, perInst, each = 3, 6, 8
	svcs := instances(t, st, nInst)
	errs := make(chan error, nInst*perInst)
	start := make(chan struct{})
	for i, svc := range svcs {
		for g := range perInst {
			go func() {
				<-start
				var err error
				for k := range each {
					if err = audited(svc, 10_000_000+(i*perInst+g)*each+k); err != nil {
						break
					}
				}
				errs <- err
			}()
		}
	}
	close(start)
	for range nInst * perInst {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, svc := range svcs {
		if err := svc.FinishAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rows := allRows(t, st)
	chains := map[int64]int64{}
	for _, r := range rows {
		if r.Chain == 0 {
			t.Fatalf("row %d in no chain", r.ID)
		}
		if r.Seq != chains[r.Chain]+1 {
			t.Errorf("chain %x: row %d after row %d", r.Chain, r.Seq, chains[r.Chain])
		}
		chains[r.Chain] = r.Seq
	}
	if len(rows) != nInst*perInst*each || len(chains) < nInst || len(chains) > nInst*perInst {
		t.Errorf("%d rows in %d chains; want %d rows, in %d to %d chains (a chain per transaction at once, at most)",
			len(rows), len(chains), nInst*perInst*each, nInst, nInst*perInst)
	}
	t.Logf("%d rows in %d chains", len(rows), len(chains))
	verifier := instances(t, st, 1)[0]
	problems, n, err := verifier.VerifyAuditLog(context.Background())
	if err != nil || len(problems) != 0 || n != len(rows) {
		t.Fatalf("verify: %d rows, %v, %v", n, problems, err)
	}
	view(t, st, func(tx service.Tx) error {
		if ids, err := tx.UnsealedAuditChains(); err != nil || len(ids) != 0 {
			t.Errorf("chains left unsealed after every instance finished: %v, %v", ids, err)
		}
		return nil
	})
}

// testVerifyFindsDeletedChain: an intruder without the key deletes a whole
// chain that a checkpoint signed, then its end, then tries to hide it.
// Each shows.
func testVerifyFindsDeletedChain(t *testing.T, st Store) {
	svcs := instances(t, st, 2)
	for i, svc := range svcs {
		for k := range 3 {
			if err := audited(svc, 20_000_000+10*i+k); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := svcs[0].CheckpointAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := allRows(t, st)
	victim := rows[0].Chain
	verify := func() []service.AuditProblem {
		t.Helper()
		problems, _, err := svcs[1].VerifyAuditLog(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return problems
	}
	has := func(ps []service.AuditProblem, chain, seq, checkpoint int64, kind string) bool {
		for _, p := range ps {
			if p.Chain == chain && p.Seq == seq && p.Checkpoint == checkpoint && p.Kind == kind {
				return true
			}
		}
		return false
	}
	if p := verify(); len(p) != 0 {
		t.Fatalf("before any tampering: %v", p)
	}
	tamper(t, st, fmt.Sprintf(`DELETE FROM audit WHERE chain_id = %d AND seq = 3`, victim))
	if p := verify(); !has(p, victim, 3, 0, "deleted") {
		t.Errorf("the end of a signed chain deleted: %v", p)
	}
	tamper(t, st, fmt.Sprintf(`DELETE FROM audit WHERE chain_id = %d`, victim))
	tamper(t, st, fmt.Sprintf(`DELETE FROM audit_chains WHERE id = %d`, victim))
	p := verify()
	if !has(p, victim, 1, 0, "deleted") {
		t.Errorf("a whole signed chain deleted: %v", p)
	}
	// Taking the chain out of the checkpoint breaks its signature.
	tamper(t, st, fmt.Sprintf(`DELETE FROM chain_checkpoint_tails WHERE chain_id = %d`, victim))
	if p := verify(); !has(p, 0, 0, 1, "checkpoint") {
		t.Errorf("a chain taken out of its checkpoint: %v", p)
	}
	// And deleting that checkpoint leaves the other chain's rows unsigned,
	// once they are older than the interval (seen from later).
	tamper(t, st, `DELETE FROM chain_checkpoint_tails`)
	tamper(t, st, `DELETE FROM chain_checkpoints`)
	if p := verify(); len(p) != 0 {
		t.Errorf("rows within the interval are not yet due a checkpoint: %v", p)
	}
	later := instancesAt(t, st, 1, fixedClock(time.Now().Add(3*service.DefaultConfig().CheckpointEvery)))[0]
	problems, _, err := later.VerifyAuditLog(context.Background())
	if err != nil || !has(problems, rows[len(rows)-1].Chain, 1, 0, "unsigned") {
		t.Errorf("every checkpoint deleted: %v, %v", problems, err)
	}
}

// testChainPoisoned: a row an intruder puts at a chain's next place makes
// the database refuse the writer's next row there once; the writer drops
// that chain and goes on in a new one (it does not fail every audited
// write until it restarts), and the intruder's row shows.
func testChainPoisoned(t *testing.T, st Store) {
	svc := instances(t, st, 1)[0]
	if err := audited(svc, 30_000_000); err != nil {
		t.Fatal(err)
	}
	rows := allRows(t, st)
	tail := rows[len(rows)-1]
	tamper(t, st, fmt.Sprintf(`INSERT INTO audit (chain_id, seq, at, actor, action, detail, prev_hash, hash)
		SELECT chain_id, seq + 1, at, actor, action, 'inserted', prev_hash, hash FROM audit WHERE chain_id = %d AND seq = %d`, tail.Chain, tail.Seq))
	failed := 0
	for k := range 4 {
		if err := audited(svc, 30_000_001+k); err != nil {
			failed++
		}
	}
	if failed > 1 {
		t.Errorf("%d of 4 audited writes failed after a row was put at the chain's next place; want 1 at most", failed)
	}
	others := 0
	for _, r := range allRows(t, st) {
		if r.Chain != tail.Chain {
			others++
		}
	}
	if others < 3 {
		t.Errorf("%d rows in other chains; want the writes after the refusal in a new chain", others)
	}
	problems, _, err := svc.VerifyAuditLog(context.Background())
	found := false
	for _, p := range problems {
		found = found || p.Chain == tail.Chain && p.Seq == tail.Seq+1
	}
	if err != nil || !found {
		t.Errorf("the inserted row does not show: %v, %v", problems, err)
	}
}

// testSealIsSigned: whether a chain is sealed comes from a signed
// checkpoint, not from a mark anyone can set: an intruder who marks a
// live chain's signed tail sealed (so that the checkpoints stop signing
// the rows written after, and deletes them later) breaks the checkpoint's
// signature, and the chain's rows show as unsigned once due.
func testSealIsSigned(t *testing.T, st Store) {
	now := time.Now()
	svc := instancesAt(t, st, 1, fixedClock(now))[0]
	if err := audited(svc, 40_000_000); err != nil {
		t.Fatal(err)
	}
	if err := svc.CheckpointAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	var signed int64
	view(t, st, func(tx service.Tx) (err error) {
		signed, _, err = tx.SignedTail(allRows(t, st)[0].Chain)
		return err
	})
	tamper(t, st, `UPDATE chain_checkpoint_tails SET sealed = true`)
	for k := range 3 {
		if err := audited(svc, 40_000_001+k); err != nil {
			t.Fatal(err)
		}
		// The signer does not believe the mark: the chain is signed on.
		if err := svc.CheckpointAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The intruder cuts what the mark should have left unsigned, and takes
	// the mark back.
	tamper(t, st, fmt.Sprintf(`DELETE FROM audit WHERE seq > %d`, signed))
	tamper(t, st, `UPDATE chain_checkpoint_tails SET sealed = false WHERE checkpoint_seq = 1`)
	later := instancesAt(t, st, 1, fixedClock(now.Add(3*service.DefaultConfig().CheckpointEvery)))[0]
	problems, _, err := later.VerifyAuditLog(context.Background())
	var gone bool
	for _, p := range problems {
		gone = gone || p.Cause == "signed_rows_gone"
	}
	if err != nil || !gone {
		t.Errorf("a live chain marked sealed, its later rows deleted, the mark taken back: %v, %v", problems, err)
	}
}

// fixedClock is a clock stopped at a time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
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
