package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// The tests of this file come from a security review of the chains: each
// attack worked on the first version of them.

// TestAuditForgedOldRowsNeverSigned: an intruder without the key frees
// ids 1 and 2 and writes two rows there as an older version's unkeyed
// chain, which anyone can compute. No later start of the service moves
// them into a chain and signs them (the upgrade runs once, on the rows the
// migration found, and the log had none): they show.
func TestAuditForgedOldRowsNeverSigned(t *testing.T) {
	e := auditEnv(t)
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("before: %v", p)
	}
	e.exec(`UPDATE audit SET id = id + 1000`)
	var prev []byte
	for i, act := range []string{"agent.added", "voter.unlocked"} {
		r := service.AuditRow{ID: int64(i + 1), AuditEntry: service.AuditEntry{At: time.Unix(1600000000, 0), Actor: "agent:forged", Action: act, Detail: "forged"}}
		h := service.LegacyAuditHash(prev, r.ID, r.AuditEntry)
		e.exec(`INSERT INTO audit (id, at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.At.UnixNano(), r.Actor, r.Action, r.Detail, prev, h)
		prev = h
	}
	e.svc = e.service(e.db) // a restart: what backend.Open does
	if err := e.svc.UpgradeAuditChain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("audit", "detail = 'forged' AND chain_id IS NOT NULL"); n != 0 {
		t.Errorf("%d forged rows moved into a chain", n)
	}
	if p := e.verify(); !hasProblem(p, 1, "not moved") {
		t.Errorf("forged rows do not show: %v", p)
	}
}

// TestAuditSealIsSigned: marking a live chain sealed, so that the
// checkpoints stop signing it and the rows written after can be deleted,
// breaks the signature of the checkpoint that holds the mark, and the
// signer does not believe it (TestAuditSignerTrustsNoUnsignedRow): even
// with the mark taken back after the cut, the cut shows. And a row after
// a chain's signed end shows, even with a valid hash.
func TestAuditSealIsSigned(t *testing.T) {
	e := auditEnv(t)
	signed := e.lastSigned()
	e.exec(`UPDATE chain_checkpoint_tails SET sealed = 1`)
	for range 5 {
		e.svc.Login(e.ctx, marie.Identifier, "wrong") // the live instance keeps writing to its chain
		if err := e.svc.CheckpointAudit(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p := e.verify(); !hasCheckpointProblem(p, 1) {
		t.Errorf("a live chain marked sealed: %v", p)
	}
	e.exec(`DELETE FROM audit WHERE seq > ?`, signed)
	e.exec(`UPDATE chain_checkpoint_tails SET sealed = 0 WHERE checkpoint_seq = 1`) // the mark taken back
	e.svc = e.service(e.db)                                                         // a restart: new chains
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	e.svc.CheckpointAudit(e.ctx)
	if p := e.verify(); !hasCause(p, "signed_rows_gone") {
		t.Errorf("a live chain marked sealed, its later rows deleted, the mark taken back: %v", p)
	}

	// A row after the end a checkpoint sealed, hashed under the key as
	// the chain's writer would.
	e = auditEnv(t)
	if err := e.svc.FinishAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("chain_checkpoint_tails", "sealed = 1"); n != 1 {
		t.Fatalf("%d sealed tails after FinishAudit, want 1", n)
	}
	var chain, seq int64
	var prev []byte
	e.raw.QueryRow(`SELECT chain_id, seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&chain, &seq, &prev)
	r := service.AuditRow{Chain: chain, Seq: seq + 1, PrevHash: prev,
		AuditEntry: service.AuditEntry{At: e.clock.Now(), Actor: "anonymous", Action: "login.failed"}}
	r.Hash = keyedWith(e.cfg.Secret)(prev, r)
	e.exec(`INSERT INTO audit (chain_id, seq, at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, '', ?, ?)`,
		r.Chain, r.Seq, r.At.UnixNano(), r.Actor, r.Action, r.PrevHash, r.Hash)
	p := e.verify()
	if !hasProblem(p, r.Seq, "added") {
		t.Errorf("a row after the sealed end: %v", p)
	}
	// And no later checkpoint signs it.
	later := e.service(e.db)
	later.CheckpointAudit(e.ctx)
	if n := e.count("chain_checkpoint_tails", "chain_id = ? AND seq = ?", r.Chain, r.Seq); n != 0 {
		t.Errorf("a checkpoint signed a row after the sealed end")
	}
}

// TestAuditChainPoisoned: a row an intruder puts at the service's chain's
// next place fails one audited write at most; the service then writes to
// a new chain, instead of failing every audited write until it restarts.
func TestAuditChainPoisoned(t *testing.T) {
	e := auditEnv(t)
	var chain, seq int64
	e.raw.QueryRow(`SELECT chain_id, MAX(seq) FROM audit GROUP BY chain_id`).Scan(&chain, &seq)
	e.exec(`INSERT INTO audit (chain_id, seq, at, actor, action, detail, prev_hash, hash) VALUES (?, ?, 0, 'anonymous', 'login.failed', '', x'00', x'00')`, chain, seq+1)
	before := e.count("audit", "1")
	failed := 0
	for range 3 {
		// A wrong password is a portal error; anything else failed.
		var pe *portal.Error
		if _, err := e.svc.Login(e.ctx, marie.Identifier, "wrong"); err != nil && !errors.As(err, &pe) {
			failed++
		}
	}
	if added := e.count("audit", "1") - before; added < 2 || failed > 1 {
		t.Errorf("%d rows added by 3 audited logins, %d failed; want at most 1 failure", added, failed)
	}
	if n := e.count("audit_chains", "1"); n != 2 {
		t.Errorf("%d chains; want the poisoned one and a new one", n)
	}
	if p := e.verify(); !hasProblem(p, seq+1, "altered") {
		t.Errorf("the inserted row does not show: %v", p)
	}
}

// TestAuditCheckpointsRolledBack: a running service remembers the last
// checkpoint it signed. When the database's checkpoints go back behind it
// (the newest deleted with the rows only it signed), it refuses to sign
// that number again, and its verification says so. (A service started
// after the rollback cannot know: the checkpoint lines in the server's
// log show it, README.)
func TestAuditCheckpointsRolledBack(t *testing.T) {
	e := auditEnv(t)
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	if err := e.svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	var last int64
	e.raw.QueryRow(`SELECT MAX(seq) FROM chain_checkpoints`).Scan(&last)
	var signedBefore int64
	e.raw.QueryRow(`SELECT seq FROM chain_checkpoint_tails WHERE checkpoint_seq = ?`, last-1).Scan(&signedBefore)
	e.exec(`DELETE FROM chain_checkpoint_tails WHERE checkpoint_seq = ?`, last)
	e.exec(`DELETE FROM chain_checkpoints WHERE seq = ?`, last)
	e.exec(`DELETE FROM audit WHERE seq > ?`, signedBefore)
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	if err := e.svc.CheckpointAudit(e.ctx); err == nil {
		t.Errorf("signed checkpoint %d again over the rolled back log", last)
	}
	p := e.verify()
	found := false
	for _, p := range p {
		found = found || p.Checkpoint == last && p.Cause == "checkpoint_rolled_back"
	}
	if !found {
		t.Errorf("the rollback does not show to the service that signed: %v", p)
	}
}

func hasCause(ps []service.AuditProblem, cause string) bool {
	for _, p := range ps {
		if p.Cause == cause {
			return true
		}
	}
	return false
}

// TestAuditSignerTrustsNoUnsignedRow: the checkpoints decide what to sign
// from the checkpoints whose MAC verifies, never from rows as stored. An
// intruder without the key who edits the checkpoints' tails so that the
// signer skips a live chain (a sealed bit set, a tail's seq raised, a
// tail added to a checkpoint, for a chain named before or for one no
// checkpoint named yet), lets the instance write on, cuts the chain's
// rows once it is idle (stopped, or killed) and puts the tails back as
// they were, is found by verify: the signer signed the live chain all
// along. (With the stored tails trusted, every variant ended clean.)
func TestAuditSignerTrustsNoUnsignedRow(t *testing.T) {
	for _, how := range []string{"sealed bit", "seq raised", "tail added", "chain never named"} {
		t.Run(how, func(t *testing.T) {
			e := auditEnv(t)
			live := e.svc
			signed := e.lastSigned()
			var chain int64
			e.raw.QueryRow(`SELECT chain_id FROM audit LIMIT 1`).Scan(&chain)
			var newest int64
			switch how {
			case "sealed bit":
				e.exec(`UPDATE chain_checkpoint_tails SET sealed = 1`)
			case "seq raised":
				e.exec(`UPDATE chain_checkpoint_tails SET seq = 1000000 WHERE chain_id = ?`, chain)
			case "tail added":
				// A second instance signs a checkpoint that does not name
				// the live chain; the tail goes there.
				if err := e.svc.CheckpointAudit(e.ctx); err != nil {
					t.Fatal(err)
				}
				signed = e.lastSigned()
				b := e.service(e.db)
				b.Login(e.ctx, "no-such-identifier", "x")
				if err := b.CheckpointAudit(e.ctx); err != nil {
					t.Fatal(err)
				}
				e.raw.QueryRow(`SELECT MAX(seq) FROM chain_checkpoints`).Scan(&newest)
				e.exec(`INSERT INTO chain_checkpoint_tails (checkpoint_seq, chain_id, seq, hash, sealed) VALUES (?, ?, 1000000, x'00', 0)`, newest, chain)
			case "chain never named":
				// A new instance's first rows: no checkpoint names its
				// chain yet. A sealed tail for it goes into the newest
				// checkpoint.
				live = e.service(e.db)
				live.Login(e.ctx, "no-such-identifier", "x")
				e.raw.QueryRow(`SELECT id FROM audit_chains WHERE id <> ?`, chain).Scan(&chain)
				e.raw.QueryRow(`SELECT MAX(seq) FROM chain_checkpoints`).Scan(&newest)
				e.exec(`INSERT INTO chain_checkpoint_tails (checkpoint_seq, chain_id, seq, hash, sealed) VALUES (?, ?, 1, x'00', 1)`, newest, chain)
				signed = 0
			}
			for range 5 {
				live.Login(e.ctx, marie.Identifier, "wrong") // the live instance keeps writing
				if err := e.svc.CheckpointAudit(e.ctx); err != nil {
					t.Fatal(err)
				}
			}
			if how == "sealed bit" {
				if err := live.FinishAudit(e.ctx); err != nil { // stopped: the chain is idle for good
					t.Fatal(err)
				}
			} // else killed
			// Cut what the intruder believes unsigned, put the tails back.
			e.exec(`DELETE FROM audit WHERE chain_id = ? AND seq > ?`, chain, signed)
			switch how {
			case "sealed bit":
				e.exec(`UPDATE chain_checkpoint_tails SET sealed = 0 WHERE checkpoint_seq = 1`)
			case "seq raised":
				e.exec(`UPDATE chain_checkpoint_tails SET seq = ? WHERE seq = 1000000`, signed)
			case "tail added":
				e.exec(`DELETE FROM chain_checkpoint_tails WHERE seq = 1000000`)
			case "chain never named":
				e.exec(`DELETE FROM chain_checkpoint_tails WHERE checkpoint_seq = ? AND chain_id = ?`, newest, chain)
				e.exec(`DELETE FROM audit_chains WHERE id = ?`, chain)
			}
			e.svc = e.service(e.db) // a restart
			e.svc.Login(e.ctx, marie.Identifier, "wrong")
			if err := e.svc.FinishAudit(e.ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(10 * e.cfg.CheckpointEvery)
			p := e.verify()
			want := "signed_rows_gone"
			if how == "chain never named" {
				want = "chain_gone"
			}
			if !hasCause(p, want) {
				t.Errorf("a live chain's rows cut after the tails were edited and put back: want %s, got %v", want, p)
			}
		})
	}
}

// TestAuditRollbackSignedOver: instance B signs checkpoint N; an intruder
// deletes it and the chain only it named; instance A, which never saw N,
// signs another N, then N+1. B refuses to sign over it every time, not
// once, and its verification keeps reporting N; and `audit verify` given
// B's log line for N (not only the newest line of some log) reports it.
func TestAuditRollbackSignedOver(t *testing.T) {
	e := auditEnv(t)
	a := e.svc
	b := e.service(e.db)
	if err := a.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	b.Login(e.ctx, "no-such-identifier", "x")
	if err := b.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	var n, x int64
	var macN []byte
	e.raw.QueryRow(`SELECT seq, mac FROM chain_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&n, &macN)
	e.raw.QueryRow(`SELECT chain_id FROM chain_checkpoint_tails WHERE checkpoint_seq = ?`, n).Scan(&x)
	e.exec(`DELETE FROM chain_checkpoint_tails WHERE checkpoint_seq = ?`, n)
	e.exec(`DELETE FROM chain_checkpoints WHERE seq = ?`, n)
	e.exec(`DELETE FROM audit WHERE chain_id = ?`, x)
	e.exec(`DELETE FROM audit_chains WHERE id = ?`, x)
	for i := range 2 {
		a.Login(e.ctx, marie.Identifier, "wrong")
		if err := a.CheckpointAudit(e.ctx); err != nil { // N again, then N+1
			t.Fatal(err)
		}
		b.Login(e.ctx, "no-such-identifier", "y")
		if err := b.CheckpointAudit(e.ctx); err == nil {
			t.Errorf("B signed over the rollback of its checkpoint %d (after A's checkpoint %d)", n, n+int64(i))
		}
	}
	if err := a.CheckpointAudit(e.ctx); err != nil { // A signs B's last rows too
		t.Fatal(err)
	}
	e.clock.Advance(10 * e.cfg.CheckpointEvery)
	rolledBack := func(ps []service.AuditProblem) bool {
		for _, p := range ps {
			if p.Checkpoint == n && p.Cause == "checkpoint_rolled_back" {
				return true
			}
		}
		return false
	}
	if p, _, err := b.VerifyAuditLog(e.ctx); err != nil || !rolledBack(p) {
		t.Errorf("B's verification: %v, %v", p, err)
	}
	cli := e.service(e.db) // audit verify --checkpoint N:MAC from B's log
	if p, _, _ := cli.VerifyAuditLog(e.ctx); len(p) != 0 {
		t.Fatalf("the database alone shows nothing, as the README says; got %v", p)
	}
	cli.ExpectCheckpoint(n, macN)
	if p, _, err := cli.VerifyAuditLog(e.ctx); err != nil || !rolledBack(p) {
		t.Errorf("audit verify with B's line for checkpoint %d: %v, %v", n, p, err)
	}
	// Both instances' logs together: two checkpoints under one number.
	cli = e.service(e.db)
	var macA []byte
	e.raw.QueryRow(`SELECT mac FROM chain_checkpoints WHERE seq = ?`, n).Scan(&macA)
	cli.ExpectCheckpoint(n, macA)
	cli.ExpectCheckpoint(n, macN)
	if p, _, _ := cli.VerifyAuditLog(e.ctx); !rolledBack(p) {
		t.Errorf("two logs with two checkpoints %d: %v", n, p)
	}
}

// TestAuditDroppedChainCut: rows a service committed to a chain it then
// dropped (its next row refused), deleted before any checkpoint signed
// them, are not made permanent by sealing the chain where the database
// now ends it: the chain is neither sealed nor signed there, and the
// service's verification reports the cut.
func TestAuditDroppedChainCut(t *testing.T) {
	e := auditEnv(t)
	st := &failingCommit{Store: e.db}
	svc := e.service(st)
	svc.Login(e.ctx, "no-such-identifier-1", "x")
	svc.Login(e.ctx, "no-such-identifier-2", "x") // rows 1 and 2 of svc's chain, unsigned
	var chain int64
	e.raw.QueryRow(`SELECT chain_id FROM audit GROUP BY chain_id HAVING MAX(seq) = 2 AND MIN(seq) = 1 AND chain_id NOT IN
		(SELECT chain_id FROM chain_checkpoint_tails)`).Scan(&chain)
	if chain == 0 {
		t.Fatal("no chain of svc's")
	}
	st.before = fmt.Errorf("append: %w", service.ErrConflict)
	svc.Login(e.ctx, "no-such-identifier-3", "x") // refused: the chain dropped, committed up to row 2
	st.before = nil
	e.exec(`DELETE FROM audit WHERE chain_id = ? AND seq = 2`, chain)
	e.clock.Advance(3 * e.cfg.CheckpointEvery)
	if err := svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("chain_checkpoint_tails", "chain_id = ?", chain); n != 0 {
		t.Errorf("the cut chain was signed or sealed at row 1 (%d tails)", n)
	}
	p, _, err := svc.VerifyAuditLog(e.ctx)
	found := false
	for _, p := range p {
		found = found || p.Chain == chain && p.Cause == "committed_rows_gone" && p.N == 2 && p.M == 2
	}
	if err != nil || !found {
		t.Errorf("the cut does not show to the service: %v, %v", p, err)
	}
}

// midViewStore runs hook inside its View transactions, after a first read
// (which fixes the transaction's snapshot) and before the checkpoints are
// read.
type midViewStore struct {
	service.Store
	hook func()
}

type midViewTx struct {
	service.Tx
	hook func()
}

func (t midViewTx) Checkpoints(fn func(service.Checkpoint) error) error {
	if t.hook != nil {
		t.hook()
	}
	return t.Tx.Checkpoints(fn)
}

func (m *midViewStore) View(ctx context.Context, fn func(service.Tx) error) error {
	return m.Store.View(ctx, func(tx service.Tx) error {
		if _, err := tx.LastCheckpoint(); err != nil { // the snapshot is taken here
			return err
		}
		return fn(midViewTx{tx, m.hook})
	})
}

// TestAuditVerifyDuringCheckpoint: a verification whose snapshot predates
// a checkpoint the same service signs meanwhile (the office's "verify"
// while the server's minute ticks) is no rollback: before, the service
// compared the snapshot with the checkpoint it had just signed, reported
// checkpoint_rolled_back and refused to sign ever after.
func TestAuditVerifyDuringCheckpoint(t *testing.T) {
	e := auditEnv(t)
	st := &midViewStore{Store: e.db}
	svc := e.service(st)
	svc.Login(e.ctx, marie.Identifier, "wrong")
	st.hook = func() {
		st.hook = nil
		if err := svc.CheckpointAudit(e.ctx); err != nil { // commits while the verification reads its snapshot
			t.Error(err)
		}
	}
	if p, _, err := svc.VerifyAuditLog(e.ctx); err != nil || len(p) != 0 {
		t.Errorf("verification during a checkpoint: %v, %v", p, err)
	}
	svc.Login(e.ctx, marie.Identifier, "wrong")
	if err := svc.CheckpointAudit(e.ctx); err != nil {
		t.Errorf("the next checkpoint: %v", err)
	}
}

// TestAuditMalformedValueSignsOn: a value of another type in one stored
// checkpoint (SQLite keeps any type in any column) stopped every
// checkpoint and verification with an error; the rows written meanwhile
// were cut after the stop, the value put back, and verify was clean even
// with every checkpoint logged. Now such a checkpoint fails its MAC: it is
// reported, the signer signs on, and the cut shows.
func TestAuditMalformedValueSignsOn(t *testing.T) {
	for _, q := range []struct{ poison, restore string }{
		{`UPDATE chain_checkpoint_tails SET sealed = 2 WHERE checkpoint_seq = 1`, `UPDATE chain_checkpoint_tails SET sealed = 0 WHERE checkpoint_seq = 1`},
		{`UPDATE chain_checkpoints SET at = 'x' WHERE seq = 1`, ``},
	} {
		t.Run(q.poison, func(t *testing.T) {
			e := auditEnv(t)
			if err := e.svc.CheckpointAudit(e.ctx); err != nil {
				t.Fatal(err)
			}
			signed := e.lastSigned()
			var chain int64
			if err := e.raw.QueryRow(`SELECT chain_id FROM audit LIMIT 1`).Scan(&chain); err != nil {
				t.Fatal(err)
			}
			var at int64
			e.raw.QueryRow(`SELECT at FROM chain_checkpoints WHERE seq = 1`).Scan(&at)
			e.exec(q.poison)
			for range 3 {
				e.svc.Login(e.ctx, marie.Identifier, "wrong")
				e.clock.Advance(e.cfg.CheckpointEvery)
				if err := e.svc.CheckpointAudit(e.ctx); err != nil {
					t.Fatalf("checkpoint stopped by one malformed value: %v", err)
				}
			}
			p, _, err := e.svc.VerifyAuditLog(e.ctx)
			if err != nil || !hasCause(p, "checkpoint_signature") {
				t.Fatalf("verify with the malformed checkpoint: %v, %v; want it reported", p, err)
			}
			if err := e.svc.FinishAudit(e.ctx); err != nil {
				t.Fatalf("stop: %v", err)
			}
			var logged [][2]any
			rows, _ := e.raw.Query(`SELECT seq, mac FROM chain_checkpoints`)
			for rows.Next() {
				var s int64
				var m []byte
				rows.Scan(&s, &m)
				logged = append(logged, [2]any{s, m})
			}
			rows.Close()
			if n := e.count("audit", "chain_id = ? AND seq > ?", chain, signed); n == 0 {
				t.Fatal("no row written during the window")
			}
			e.exec(`DELETE FROM audit WHERE chain_id = ? AND seq > ?`, chain, signed)
			if q.restore != "" {
				e.exec(q.restore)
			} else {
				e.exec(`UPDATE chain_checkpoints SET at = ? WHERE seq = 1`, at)
			}
			cli := e.service(e.db) // audit verify --checkpoints-from server.log
			for _, l := range logged {
				cli.ExpectCheckpoint(l[0].(int64), l[1].([]byte))
			}
			p, _, err = cli.VerifyAuditLog(e.ctx)
			if err != nil || !hasCause(p, "signed_rows_gone") {
				t.Errorf("rows signed during the window cut: verify %v, %v; want signed_rows_gone", p, err)
			}
		})
	}
}

// TestAuditMemoSeesReplacedCheckpoint: the signer reads only the
// checkpoints newer than those it verified before (signedMemo), so it
// must notice when the newest of those was replaced by another signed
// under its number (a rollback, then another instance's checkpoint):
// that one seals a chain, and a row added to the sealed chain must not be
// signed by the instance that had memoised the old one.
func TestAuditMemoSeesReplacedCheckpoint(t *testing.T) {
	e := auditEnv(t)
	a := e.svc
	b := e.service(e.db)
	b.Login(e.ctx, "no-such-identifier-1", "x")
	if err := b.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	var s int64
	e.raw.QueryRow(`SELECT MAX(seq) FROM chain_checkpoints`).Scan(&s)
	if c, err := service.CheckpointForTest(a, e.ctx); err != nil || c.Seq != 0 {
		t.Fatalf("A's checkpoint, nothing moved: %+v, %v", c, err) // A has read up to s
	}
	// B's checkpoint s rolled back; C signs another s as it stops, which
	// seals C's chain.
	e.exec(`DELETE FROM chain_checkpoint_tails WHERE checkpoint_seq = ?`, s)
	e.exec(`DELETE FROM chain_checkpoints WHERE seq = ?`, s)
	c := e.service(e.db)
	c.Login(e.ctx, "no-such-identifier-2", "x")
	if err := c.FinishAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	var chain, seq int64
	if err := e.raw.QueryRow(`SELECT chain_id, seq FROM chain_checkpoint_tails WHERE checkpoint_seq = ? AND sealed = 1`, s).Scan(&chain, &seq); err != nil {
		t.Fatalf("C's checkpoint %d seals no chain: %v", s, err)
	}
	// A row added to the sealed chain.
	e.exec(`INSERT INTO audit (chain_id, seq, at, actor, action, detail, prev_hash, hash) VALUES (?, ?, 0, 'anonymous', 'login.failed', '', x'00', x'00')`, chain, seq+1)
	a.Login(e.ctx, marie.Identifier, "wrong")
	if err := a.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("chain_checkpoint_tails", "chain_id = ? AND seq > ?", chain, seq); n != 0 {
		t.Errorf("A signed a row added to chain %d after C's checkpoint %d sealed it", chain, s)
	}
	if p := e.verify(); !hasCause(p, "after_seal") {
		t.Errorf("verify: %v; want after_seal", p)
	}
}

// TestAuditWholeChainCut: committed_rows_gone missed a chain cut whole: delete the rows AND
// the registration, and neither the stop's checkpoint nor the dropped
// chain's late checkpoint reported anything (the cut check only walked the
// chains AuditChains lists).
func TestAuditWholeChainCut(t *testing.T) {
	for _, how := range []string{"rows-only (control)", "stop", "dropped"} {
		t.Run(how, func(t *testing.T) {
			e := auditEnv(t)
			svc := e.service(e.db)
			svc.Login(e.ctx, "no-such-identifier-1", "x")
			svc.Login(e.ctx, "no-such-identifier-2", "x") // rows 1 and 2 of svc's chain, unsigned
			var chain int64
			e.raw.QueryRow(`SELECT chain_id FROM audit GROUP BY chain_id HAVING MAX(seq) = 2 AND MIN(seq) = 1 AND chain_id NOT IN
				(SELECT chain_id FROM chain_checkpoint_tails)`).Scan(&chain)
			if chain == 0 {
				t.Fatal("no chain")
			}
			e.exec(`DELETE FROM audit WHERE chain_id = ?`, chain)
			if how != "rows-only (control)" {
				e.exec(`DELETE FROM audit_chains WHERE id = ?`, chain)
			}
			if how == "dropped" {
				_, err := svc.Login(e.ctx, "no-such-identifier-3", "x") // FK refusal: ErrConflict, chain dropped
				t.Logf("login 3: %v", err)
				e.clock.Advance(3 * e.cfg.CheckpointEvery)
				if err := svc.CheckpointAudit(e.ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := svc.FinishAudit(e.ctx); err != nil {
					t.Fatal(err)
				}
			}
			p, _, _ := svc.VerifyAuditLog(e.ctx)
			found := false
			for _, p := range p {
				found = found || p.Cause == "committed_rows_gone"
			}
			if !found {
				t.Errorf("%s: 2 committed rows cut with their chain, the service that committed them reports %v", how, p)
			}
			if !strings.Contains(e.logs.String(), "audit chain cut") {
				t.Errorf("%s: no \"audit chain cut\" error logged", how)
			}
		})
	}
}

// TestAuditMalformedRowIsAFinding: a value of another type in one audit
// row stopped the verification with an error; now it is that row's
// finding, and the signer signs on.
func TestAuditMalformedRowIsAFinding(t *testing.T) {
	for _, q := range []string{
		`UPDATE audit SET at = 'x' WHERE id = 1`,
		`UPDATE audit SET seq = 'x' WHERE id = 1`,
		`UPDATE audit SET voter_id = 'x' WHERE id = 1`,
	} {
		t.Run(q, func(t *testing.T) {
			e := auditEnv(t)
			e.exec(q)
			e.svc.Login(e.ctx, marie.Identifier, "wrong")
			if err := e.svc.CheckpointAudit(e.ctx); err != nil {
				t.Fatalf("checkpoint: %v", err)
			}
			p, _, err := e.svc.VerifyAuditLog(e.ctx)
			if err != nil || len(p) == 0 {
				t.Errorf("verify: %v, %v; want a finding, no error", p, err)
			}
		})
	}
}

// TestAuditTextPlaceSignsOn (fourth review): a database writer made the
// place of a chain's newest signed row text ("8x"). SQLite sorts text
// above every integer, so the tail read back was that row and the
// checkpoints took the chain for still: the rows after it went unsigned,
// without an error, and could be cut once the place was put back, the
// verification clean. The signer now reads the tail among integer places:
// the later rows are signed, and cutting them shows.
func TestAuditTextPlaceSignsOn(t *testing.T) {
	e := auditEnv(t)
	if err := e.svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	s := e.lastSigned()
	var chain int64
	if err := e.raw.QueryRow(`SELECT chain_id FROM audit WHERE seq = ?`, s).Scan(&chain); err != nil {
		t.Fatal(err)
	}
	e.exec(`UPDATE audit SET seq = CAST(seq AS TEXT) || 'x' WHERE chain_id = ? AND seq = ?`, chain, s)
	for range 5 {
		e.svc.Login(e.ctx, marie.Identifier, "wrong")
		e.clock.Advance(e.cfg.CheckpointEvery)
		if err := e.svc.CheckpointAudit(e.ctx); err != nil {
			t.Fatalf("checkpoint: %v", err)
		}
	}
	n := e.count("audit", "chain_id = ? AND typeof(seq) = 'integer' AND seq > ?", chain, s)
	if n == 0 {
		t.Fatal("no row written after the signed tail: the test proves nothing")
	}
	if signed := e.count("chain_checkpoint_tails", "chain_id = ? AND seq > ?", chain, s); signed == 0 {
		t.Errorf("%d rows written after the text place, none signed in 5 periods", n)
	}
	// The cut, the place put back; a verification by another process
	// (the server died: nobody remembers what it committed).
	e.exec(`DELETE FROM audit WHERE chain_id = ? AND typeof(seq) = 'integer' AND seq > ?`, chain, s)
	e.exec(`UPDATE audit SET seq = ? WHERE chain_id = ? AND typeof(seq) = 'text'`, s, chain)
	p, _, err := e.service(e.db).VerifyAuditLog(e.ctx)
	if err != nil || len(p) == 0 {
		t.Errorf("%d signed rows cut: verify = %v, %v; want a finding", n, p, err)
	}
}

// TestAuditLiveChainCut (fourth review): rows a running service committed
// to a chain it still uses, cut before any checkpoint signed them, were
// seen only at its stop. Its next checkpoint now finds the chain shorter
// than it committed: not signed there, reported, and not written again.
func TestAuditLiveChainCut(t *testing.T) {
	e := auditEnv(t)
	if err := e.svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	s := e.lastSigned()
	var chain int64
	if err := e.raw.QueryRow(`SELECT chain_id FROM audit WHERE seq = ?`, s).Scan(&chain); err != nil {
		t.Fatal(err)
	}
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	cut := e.count("audit", "chain_id = ? AND seq > ?", chain, s)
	if cut == 0 {
		t.Fatal("the logins wrote no row to the chain: the test proves nothing")
	}
	e.exec(`DELETE FROM audit WHERE chain_id = ? AND seq > ?`, chain, s)
	e.clock.Advance(e.cfg.CheckpointEvery)
	if err := e.svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	p, _, err := e.svc.VerifyAuditLog(e.ctx)
	found := false
	for _, x := range p {
		found = found || x.Cause == "committed_rows_gone" && x.Chain == chain
	}
	if err != nil || !found {
		t.Errorf("%d committed rows cut from the live chain: verify = %v, %v; want committed_rows_gone", cut, p, err)
	}
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	if n := e.count("audit", "chain_id = ? AND seq > ?", chain, s); n != 0 {
		t.Errorf("the cut chain was written again (%d rows past its cut)", n)
	}
}
