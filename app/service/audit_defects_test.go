package service_test

import (
	"errors"
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
// checkpoints stop signing it and the rows written after can be deleted
// with no trace, breaks the signature of the checkpoint that holds the
// mark; and a row after a chain's signed end shows, even with a valid
// hash.
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
	e.exec(`DELETE FROM audit WHERE seq > ?`, signed)
	e.svc = e.service(e.db) // a restart: new chains
	e.svc.Login(e.ctx, marie.Identifier, "wrong")
	e.svc.CheckpointAudit(e.ctx)
	if p := e.verify(); !hasCheckpointProblem(p, 1) {
		t.Errorf("a live chain marked sealed, its later rows deleted: %v", p)
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
