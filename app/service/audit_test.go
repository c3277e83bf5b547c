package service_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// auditEnv is an env with some history in its audit log and a checkpoint.
// Its service writes one transaction at a time, so its rows are in one
// chain: row n of the chain is seq n.
func auditEnv(t *testing.T) *env {
	e := newEnv(t)
	e.request("99999999", "x@example.org")
	e.confirm(e.requestLink(), "wrong")
	e.svc.Login(e.ctx, marie.Identifier, marie.Password)
	if err := e.svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.svc.Login(e.ctx, marie.Identifier, "wrong") // one row past the checkpoint
	if n := e.count("audit", "1"); n < 8 {
		t.Fatalf("only %d audit rows", n)
	}
	if n := e.count("audit_chains", "1"); n != 1 {
		t.Fatalf("%d chains for one writer at a time", n)
	}
	return e
}

func (e *env) verify() []service.AuditProblem {
	e.t.Helper()
	problems, rows, err := e.svc.VerifyAuditLog(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if rows == 0 {
		e.t.Fatal("nothing verified")
	}
	for _, p := range problems {
		// Each can be said in the agent's language.
		if !slices.Contains(portal.AuditCauses, p.Cause) {
			e.t.Errorf("problem %v has the cause %q, not one of portal.AuditCauses", p, p.Cause)
		}
	}
	return problems
}

// lastSigned returns the row the newest checkpoint signed.
func (e *env) lastSigned() int64 {
	e.t.Helper()
	var seq int64
	if err := e.raw.QueryRow(`SELECT seq FROM chain_checkpoint_tails ORDER BY checkpoint_seq DESC LIMIT 1`).Scan(&seq); err != nil {
		e.t.Fatal(err)
	}
	return seq
}

func TestAuditIntact(t *testing.T) {
	e := auditEnv(t)
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("an untouched log has problems: %v", p)
	}
	// A second checkpoint with no new row adds nothing.
	e.svc.CheckpointAudit(e.ctx)
	e.svc.CheckpointAudit(e.ctx)
	if n := e.count("chain_checkpoints", "1"); n != 2 {
		t.Errorf("%d checkpoints, want 2", n)
	}
}

// TestAuditTampering edits the database directly, as an intruder with
// write access but not the key file would, and expects each kind of
// tampering found at the right row.
func TestAuditTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(e *env)
		seq    int64 // -1: the row the last checkpoint signed
		kind   string
	}{
		{"edited detail", func(e *env) { e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE seq = 4`) }, 4, "altered"},
		{"edited time", func(e *env) { e.exec(`UPDATE audit SET at = at - 3600000000000 WHERE seq = 6`) }, 6, "altered"},
		{"edited actor", func(e *env) { e.exec(`UPDATE audit SET actor = 'voter:2' WHERE seq = 5`) }, 5, "altered"},
		{"moved to another chain", func(e *env) {
			e.exec(`INSERT INTO audit_chains (id, started_at) VALUES (7, 0)`)
			e.exec(`UPDATE audit SET chain_id = 7, seq = 1 WHERE seq = 5`)
		}, 6, "deleted"},
		{"deleted row", func(e *env) { e.exec(`DELETE FROM audit WHERE seq = 5`) }, 6, "deleted"},
		{"reordered rows", func(e *env) {
			e.exec(`UPDATE audit SET seq = -5 WHERE seq = 5`)
			e.exec(`UPDATE audit SET seq = 5 WHERE seq = 6`)
			e.exec(`UPDATE audit SET seq = 6 WHERE seq = -5`)
		}, 5, "reordered"},
		{"tail deleted past the checkpoint", func(e *env) {
			e.exec(`DELETE FROM audit WHERE seq >= ?`, e.lastSigned())
		}, -1, "deleted"},
		{"chain rewritten after an edit", func(e *env) {
			// Edit a row, then recompute every hash after it, as one can
			// without the key: only the signed checkpoint shows it.
			e.exec(`UPDATE audit SET detail = 'rewritten' WHERE seq = 3`)
			rewriteChain(e)
		}, -1, "altered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := auditEnv(t)
			want := tc.seq
			if want == -1 {
				want = e.lastSigned()
			}
			tc.tamper(e)
			problems := e.verify()
			if !hasProblem(problems, want, tc.kind) {
				t.Fatalf("want %s at row %d; found %v", tc.kind, want, problems)
			}
			if !strings.Contains(problems[0].String(), "row ") || !strings.Contains(problems[0].String(), "chain ") {
				t.Errorf("problem text %q does not say which chain and row", problems[0].String())
			}
		})
	}
	e := auditEnv(t)
	e.exec(`UPDATE chain_checkpoints SET mac = zeroblob(32)`)
	if p := e.verify(); !hasCheckpointProblem(p, 1) || !strings.HasPrefix(p[0].String(), "checkpoint 1: ") {
		t.Fatalf("a forged checkpoint: %v", p)
	}
}

// rewriteChain recomputes every hash of the chain from the stored rows, as
// the first versions chained them (SHA-256, no key).
func rewriteChain(e *env) {
	rewriteChainWith(e, func(prev []byte, r service.AuditRow) []byte {
		return service.LegacyAuditHash(prev, r.Seq, r.AuditEntry)
	})
}

// rewriteChainWith recomputes every hash of the chain with hash.
func rewriteChainWith(e *env, hash func(prev []byte, r service.AuditRow) []byte) {
	rows, err := e.raw.Query(`SELECT id, chain_id, seq, at, actor, action, COALESCE(voter_id, 0), detail FROM audit ORDER BY seq`)
	if err != nil {
		e.t.Fatal(err)
	}
	var all []service.AuditRow
	for rows.Next() {
		var r service.AuditRow
		var at int64
		rows.Scan(&r.ID, &r.Chain, &r.Seq, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail)
		r.At = timeFromNanos(at)
		all = append(all, r)
	}
	rows.Close()
	var prev []byte
	for _, r := range all {
		h := hash(prev, r)
		e.exec(`UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?`, prev, h, r.ID)
		prev = h
	}
}

// deleteCheckpoints deletes every checkpoint, as an intruder would first.
func (e *env) deleteCheckpoints() {
	e.exec(`DELETE FROM chain_checkpoint_tails`)
	e.exec(`DELETE FROM chain_checkpoints`)
}

// TestAuditChainNeedsTheKey is the report's attack: every checkpoint
// deleted, a row edited, the chain computed again as the first versions
// did (SHA-256) or under another key. Each is found.
func TestAuditChainNeedsTheKey(t *testing.T) {
	for name, rechain := range map[string]func(e *env){
		"sha-256":   rewriteChain,
		"other key": func(e *env) { rewriteChainWith(e, keyedWith(bytes.Repeat([]byte("x"), 32))) },
	} {
		t.Run(name, func(t *testing.T) {
			e := auditEnv(t)
			e.deleteCheckpoints()
			e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE seq = 4`)
			rechain(e)
			if p := e.verify(); !hasProblem(p, 4, "altered") {
				t.Fatalf("re-chained without the key: %v", p)
			}
		})
	}
	// With the right key the same rewrite is undetectable but for the
	// missing checkpoints: that is what the key protects.
	e := auditEnv(t)
	e.deleteCheckpoints()
	e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE seq = 4`)
	rewriteChainWith(e, keyedWith(e.cfg.Secret))
	e.clock.Advance(2*e.cfg.CheckpointEvery + time.Second)
	if p := e.verify(); !hasProblem(p, 1, "unsigned") || hasProblem(p, 4, "altered") {
		t.Fatalf("re-chained with the key, checkpoints deleted: %v; want only the unsigned rows", p)
	}
}

// TestAuditCheckpointsCoverAndSequence: rows older than twice the
// checkpoint period must be covered by a checkpoint, and the
// checkpoints' sequence must have no gap; each checkpoint's signature
// also goes to the log.
func TestAuditCheckpointsCoverAndSequence(t *testing.T) {
	e := auditEnv(t) // one row past the checkpoint
	e.clock.Advance(2*e.cfg.CheckpointEvery - time.Second)
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("rows within the interval are not yet due a checkpoint: %v", p)
	}
	e.clock.Advance(2 * time.Second)
	last := int64(e.count("audit", "1"))
	if p := e.verify(); !hasProblem(p, last, "unsigned") {
		t.Fatalf("a row older than the interval without checkpoint: %v", p)
	}
	for range 3 {
		e.svc.Login(e.ctx, marie.Identifier, "mauvais")
		if err := e.svc.CheckpointAudit(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("after new checkpoints: %v", p)
	}
	var mac []byte
	e.raw.QueryRow(`SELECT mac FROM chain_checkpoints WHERE seq = 2`).Scan(&mac)
	if !strings.Contains(e.logs.String(), hex.EncodeToString(mac)) {
		t.Error("checkpoint 2's signature is not in the log")
	}
	e.exec(`DELETE FROM chain_checkpoint_tails WHERE checkpoint_seq = 2`)
	e.exec(`DELETE FROM chain_checkpoints WHERE seq = 2`)
	if p := e.verify(); !hasCheckpointProblem(p, 3) {
		t.Fatalf("a checkpoint deleted from the middle: %v", p)
	}
}

// TestAuditCheckpointSignsOtherWriters: a checkpoint signs what every
// writer wrote, the rows of a program that died without signing
// included, and a program that finishes seals its chains.
func TestAuditCheckpointSignsOtherWriters(t *testing.T) {
	e := auditEnv(t)
	dead := e.service(e.db)
	if _, err := dead.Login(e.ctx, "no-such-identifier", "x"); err == nil {
		t.Fatal("login with an unknown identifier")
	}
	// dead stops here, without FinishAudit: its row is unsigned.
	if n, _ := servicetest.UnsignedRows(t, e.db); n != 2 {
		t.Fatalf("%d rows unsigned, want the one past auditEnv's checkpoint and the dead program's", n)
	}
	if err := e.svc.FinishAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := servicetest.UnsignedRows(t, e.db); n != 0 {
		t.Fatalf("%d rows unsigned after the other program's checkpoint", n)
	}
	if n := e.count("audit_chains", "id NOT IN (SELECT chain_id FROM chain_checkpoint_tails WHERE sealed = 1)"); n != 1 {
		t.Errorf("%d chains unsealed; want the dead program's only", n)
	}
	// Rows audited after FinishAudit go to a new chain, signed later.
	e.svc.Login(e.ctx, "no-such-identifier-2", "x")
	if n := e.count("audit_chains", "1"); n != 3 {
		t.Errorf("%d chains, want 3", n)
	}
	e.clock.Advance(3 * e.cfg.CheckpointEvery)
	if err := dead.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("%v", p)
	}
}

// failingCommit is a store whose audited transactions fail once asked:
// after they committed (the answer lost, as when the connection drops
// during COMMIT), or at the audit row's insert (rolled back).
type failingCommit struct {
	service.Store
	after  bool
	before error // what the audit row's insert returns, when not nil
}

var errCommit = errors.New("connection lost during commit")

// watched tells whether its transaction appended an audit row.
type watched struct {
	service.Tx
	f        *failingCommit
	appended *bool
}

func (w watched) AppendAudit(r service.AuditRow) error {
	if w.f.before != nil {
		return w.f.before // the insert fails: the transaction rolls back
	}
	*w.appended = true
	return w.Tx.AppendAudit(r)
}

func (f *failingCommit) Update(ctx context.Context, fn func(service.Tx) error) error {
	var appended bool
	err := f.Store.Update(ctx, func(tx service.Tx) error {
		appended = false
		return fn(watched{tx, f, &appended})
	})
	if err == nil && appended && f.after {
		return errCommit
	}
	return err
}

// TestAuditChainAfterFailedCommit: when a commit fails, the service
// cannot know whether it happened; it leaves that chain and starts
// another, so that no chain forks or skips, and the checkpoints sign the
// left chain's tail as the database holds it. A transaction rolled back
// gives its chain back unchanged, unless the database refused the audit
// row itself: then the chain is dropped too (TestAuditChainPoisoned).
func TestAuditChainAfterFailedCommit(t *testing.T) {
	e := auditEnv(t)
	st := &failingCommit{Store: e.db}
	svc := e.service(st)
	n := 0
	login := func() { // an unknown identifier, another each time: always audited
		n++
		svc.Login(e.ctx, fmt.Sprintf("no-such-identifier-%d", n), "x")
	}
	login()
	errLater := errors.New("a write after the audit row fails")
	if err := service.UpdateForTest(svc, e.ctx, func(tx service.Tx) error {
		if err := service.AuditForTest(svc, tx); err != nil {
			return err
		}
		return errLater
	}); !errors.Is(err, errLater) {
		t.Fatalf("the rolled back transaction: %v", err)
	}
	login()
	if n := e.count("audit_chains", "1"); n != 2 {
		t.Fatalf("%d chains; want auditEnv's and this service's, the rollback gave it back", n)
	}
	// A failure that is not the row's (a deadlock, a serialization
	// failure): the chain is healthy, and given back.
	st.before = errors.New("ERROR: deadlock detected (SQLSTATE 40P01)")
	login()
	st.before = nil
	login()
	if n := e.count("audit_chains", "1"); n != 2 {
		t.Fatalf("%d chains; want the service's given back after a deadlock", n)
	}
	st.before = fmt.Errorf("append audit row: %w", service.ErrConflict)
	login() // the audit row refused (its place taken): rolled back, the chain dropped
	st.before = nil
	login()
	if n := e.count("audit_chains", "1"); n != 3 {
		t.Fatalf("%d chains; want a new one after the refused audit row", n)
	}
	st.after = true
	login() // committed, but the service hears a failure
	st.after = false
	login()
	login()
	if n := e.count("audit_chains", "1"); n != 4 {
		t.Fatalf("%d chains; want a new one after the failed commit", n)
	}
	// The chains dropped are sealed, at their tail as the database holds
	// it, once a commit that failed but may still land cannot: two
	// checkpoint periods later.
	unsealed := func() int {
		return e.count("audit_chains", "id NOT IN (SELECT chain_id FROM chain_checkpoint_tails WHERE sealed = 1)")
	}
	if err := svc.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := unsealed(); n != 4 {
		t.Errorf("%d chains unsealed; want all 4, the dropped ones too, so soon after they were dropped", n)
	}
	e.clock.Advance(3 * e.cfg.CheckpointEvery)
	if err := svc.FinishAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.FinishAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("%v", p)
	}
	if n := unsealed(); n != 0 {
		t.Errorf("%d chains unsealed; want none, the dropped ones sealed too", n)
	}
}

// TestAuditOutsideTheServiceStore: a transaction that does not come from
// the service's store cannot be audited (there is no chain to hold).
func TestAuditOutsideTheServiceStore(t *testing.T) {
	e := auditEnv(t)
	before := e.count("audit", "1")
	err := e.db.Update(e.ctx, func(tx service.Tx) error { return service.AuditForTest(e.svc, tx) })
	if err == nil || e.count("audit", "1") != before {
		t.Fatalf("audited outside the service's store: %v", err)
	}
}

// oldChain turns the env's log into the single chain of an older version:
// no chain, hashes over the row id (keyed, or the first versions'
// SHA-256), and its checkpoints in audit_checkpoints, signed as they were.
func oldChain(t *testing.T, keyed bool) *env {
	e := auditEnv(t)
	e.exec(`DELETE FROM chain_checkpoint_tails`)
	e.exec(`DELETE FROM chain_checkpoints`)
	e.exec(`UPDATE audit SET chain_id = NULL, seq = NULL`)
	e.exec(`DELETE FROM audit_chains`)
	hash := func(prev []byte, r service.AuditRow) []byte { return service.LegacyAuditHash(prev, r.ID, r.AuditEntry) }
	if keyed {
		hash = func(prev []byte, r service.AuditRow) []byte {
			m := hmac.New(sha256.New, e.cfg.Secret)
			m.Write([]byte("audit-chain\x00"))
			return chainFields(m, prev, []int64{r.ID}, r.AuditEntry)
		}
	}
	rows, _ := e.raw.Query(`SELECT id, at, actor, action, COALESCE(voter_id, 0), detail FROM audit ORDER BY id`)
	var all []service.AuditRow
	for rows.Next() {
		var r service.AuditRow
		var at int64
		rows.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail)
		r.At = timeFromNanos(at)
		all = append(all, r)
	}
	rows.Close()
	var prev []byte
	for _, r := range all {
		h := hash(prev, r)
		e.exec(`UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?`, prev, h, r.ID)
		prev = h
	}
	mac := func(v string) []byte {
		m := hmac.New(sha256.New, e.cfg.Secret)
		m.Write([]byte("audit-checkpoint\x00" + v))
		return m.Sum(nil)
	}
	// Signed up to the last row, as an older server signed at its stop.
	last := all[len(all)-1].ID
	for seq, id := range []int64{3, 6, last} {
		var h []byte
		e.raw.QueryRow(`SELECT hash FROM audit WHERE id = ?`, id).Scan(&h)
		sig := mac(fmt.Sprintf("%d:%x", id, h))
		if keyed {
			sig = mac(fmt.Sprintf("%d:%d:%x", seq+1, id, h))
		}
		e.exec(`INSERT INTO audit_checkpoints (id, audit_id, hash, mac, at) VALUES (?, ?, ?, ?, 0)`, seq+1, id, h, sig)
	}
	// The mark migration 11 leaves in a log that had rows.
	e.exec(`INSERT INTO audit_chain_upgrade (row_count, last_id) VALUES (?, ?)`, len(all), last)
	e.svc = e.service(e.db) // this version, opening the older database
	return e
}

// TestAuditChainUpgrade: the single chain of an older version (keyed, or
// unkeyed) and its checkpoints move into a chain of this version when the
// service opens the log, only if they verify; the move is audited and
// signed at once, and happens once: a row added to the old chain after
// it is never moved, and shows. A tampered old chain is not moved and
// shows.
func TestAuditChainUpgrade(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			e := oldChain(t, keyed)
			rows := e.count("audit", "1")
			// Verifying first checks the rows to move as the older version
			// did, and moves nothing.
			if p := e.verify(); len(p) != 0 {
				t.Fatalf("an old chain waiting to move: %v", p)
			}
			if n := e.count("audit", "chain_id IS NULL"); n != rows {
				t.Fatalf("verify moved %d rows", rows-n)
			}
			if err := e.svc.UpgradeAuditChain(e.ctx); err != nil {
				t.Fatal(err)
			}
			if p := e.verify(); len(p) != 0 {
				t.Fatalf("after the move: %v", p)
			}
			if n := e.count("audit", "action = 'audit.chain_moved' AND seq = ?", rows+1); n != 1 {
				t.Fatalf("%d moves audited at the end of the moved chain", n)
			}
			if n := e.count("audit", "chain_id IS NULL"); n != 0 {
				t.Errorf("%d rows not moved", n)
			}
			if n := e.count("audit_checkpoints", "1"); n != 0 {
				t.Errorf("%d old checkpoints left", n)
			}
			if n := e.count("audit_chain_upgrade", "1"); n != 0 {
				t.Errorf("the upgrade's mark is left")
			}
			if n, _ := servicetest.UnsignedRows(t, e.db); n != 0 {
				t.Errorf("%d rows unsigned after the move", n)
			}
			// Once only: a row written as the old chain after the move
			// (anyone can compute the unkeyed hash) stays out of the
			// chains, at every later start, and shows.
			forgeOldRow(e, 1_000_000)
			e.svc = e.service(e.db)
			if err := e.svc.UpgradeAuditChain(e.ctx); err != nil {
				t.Fatal(err)
			}
			if n := e.count("audit", "chain_id IS NULL"); n != 1 || e.count("audit", "action = 'audit.chain_moved'") != 1 {
				t.Fatalf("moved again: %d old rows left", n)
			}
			if p := e.verify(); !hasProblem(p, 1_000_000, "not moved") {
				t.Fatalf("a row added as the old chain after the move: %v", p)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		tamper func(e *env)
		seq    int64
		kind   string
	}{
		{"edited", func(e *env) { e.exec(`UPDATE audit SET detail = 'edited' WHERE id = 2`) }, 2, "altered"},
		// Its end cut with its last checkpoint: the rows left verify, but
		// the end is signed by no old checkpoint. Strict: not moved.
		{"end cut", func(e *env) {
			e.exec(`DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)`)
			e.exec(`DELETE FROM audit_checkpoints WHERE id = (SELECT MAX(id) FROM audit_checkpoints)`)
			e.exec(`UPDATE audit_chain_upgrade SET row_count = row_count - 1, last_id = last_id - 1`)
		}, 1, "not moved"},
		// Rows added to the old chain after the migration.
		{"rows added", func(e *env) { forgeOldRow(e, 0) }, 1, "not moved"},
		// The mark put back in a log that has chains already.
		{"mark put back", func(e *env) {
			e.svc.UpgradeAuditChain(e.ctx)
			forgeOldRow(e, 1_000_000)
			e.exec(`INSERT INTO audit_chain_upgrade (row_count, last_id) VALUES (1, 1000000)`)
			// Before any start: not taken for rows waiting to move.
			if p := e.verify(); !hasProblem(p, 1_000_000, "not moved") {
				e.t.Errorf("a row added with the mark put back, before a start: %v", p)
			}
		}, 1_000_000, "not moved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := oldChain(t, true)
			tc.tamper(e)
			moved := e.count("audit", "action = 'audit.chain_moved'")
			if err := e.svc.UpgradeAuditChain(e.ctx); err != nil {
				t.Fatal(err)
			}
			if p := e.verify(); !hasProblem(p, tc.seq, tc.kind) || !slices.ContainsFunc(p, func(p service.AuditProblem) bool { return p.Cause == "not_moved" }) ||
				e.count("audit", "action = 'audit.chain_moved'") != moved {
				t.Fatalf("a tampered old chain was moved: %v", p)
			}
			if n := e.count("audit_chain_upgrade", "1"); n != 0 {
				t.Errorf("the upgrade's mark is left after a refusal")
			}
			// New rows go to chains all the same.
			before := e.count("audit", "chain_id IS NOT NULL")
			_, err := e.svc.Login(e.ctx, "no-such-identifier", "x")
			if n := e.count("audit", "chain_id IS NOT NULL"); n != before+1 {
				t.Errorf("%d rows in chains (%v)", n-before, err)
			}
		})
	}
}

// forgeOldRow adds a row to the end of the older version's chain as
// anyone can, with the unkeyed hash, under id (0: the next one).
func forgeOldRow(e *env, id int64) {
	e.t.Helper()
	var prev []byte
	var last int64
	e.raw.QueryRow(`SELECT id, hash FROM audit WHERE chain_id IS NULL ORDER BY id DESC LIMIT 1`).Scan(&last, &prev)
	if id == 0 {
		id = last + 1
	}
	r := service.AuditEntry{At: time.Unix(1600000000, 0), Actor: "agent:forged", Action: "agent.added", Detail: "forged"}
	e.exec(`INSERT INTO audit (id, at, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, r.At.UnixNano(), r.Actor, r.Action, r.Detail, prev, service.LegacyAuditHash(prev, id, r))
}

func hasProblem(ps []service.AuditProblem, seq int64, kind string) bool {
	for _, p := range ps {
		if p.Seq == seq && p.Kind == kind && p.Checkpoint == 0 {
			return true
		}
	}
	return false
}

func hasCheckpointProblem(ps []service.AuditProblem, seq int64) bool {
	for _, p := range ps {
		if p.Checkpoint == seq && p.Kind == "checkpoint" {
			return true
		}
	}
	return false
}

// keyedWith is the chains' hash under key, as the service makes it: an
// HMAC over the row's chain and seq, the hash before it and its entry.
func keyedWith(key []byte) func(prev []byte, r service.AuditRow) []byte {
	return func(prev []byte, r service.AuditRow) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("audit-chain/2\x00"))
		return chainFields(m, prev, []int64{r.Chain, r.Seq}, r.AuditEntry)
	}
}

// chainFields writes a row's fields as the service does, length-prefixed.
func chainFields(m interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
}, prev []byte, place []int64, e service.AuditEntry) []byte {
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		m.Write(n[:])
		m.Write(b)
	}
	num := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		field(n[:])
	}
	field(prev)
	for _, p := range place {
		num(p)
	}
	num(e.At.UnixNano())
	field([]byte(e.Actor))
	field([]byte(e.Action))
	num(e.VoterID)
	field([]byte(e.Detail))
	return m.Sum(nil)
}

// barrierStore commits no transaction until n of them are in flight at
// once: a service that made its transactions wait for one another's audit
// chain would never get there.
type barrierStore struct {
	service.Store
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
	rows    []service.AuditRow
}

type rowsTx struct {
	service.Tx
	s *barrierStore
}

func (t rowsTx) StartAuditChain(service.AuditChain) error { return nil }

func (t rowsTx) AppendAudit(r service.AuditRow) error {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.s.rows = append(t.s.rows, r)
	return nil
}

func (b *barrierStore) Update(ctx context.Context, fn func(service.Tx) error) error {
	if err := fn(rowsTx{s: b}); err != nil {
		return err
	}
	b.mu.Lock()
	if b.arrived++; b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestAuditChainsNeverWait: transactions of one service that audit at
// once each hold a chain of their own, none waits for another's; once
// committed, the chains serve again, each row after its chain's tail.
func TestAuditChainsNeverWait(t *testing.T) {
	e := newEnv(t)
	const n = 8
	st := &barrierStore{Store: e.db, n: n}
	svc := e.service(st)
	for round := 1; round <= 2; round++ {
		st.arrived, st.all, st.rows = 0, make(chan struct{}), nil
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := service.UpdateForTest(svc, ctx, func(tx service.Tx) error { return service.AuditForTest(svc, tx) }); err != nil {
					t.Errorf("round %d: %v (transactions waited for each other)", round, err)
				}
			})
		}
		wg.Wait()
		cancel()
		chains := map[int64]bool{}
		for _, r := range st.rows {
			chains[r.Chain] = true
			if r.Seq != int64(round) {
				t.Errorf("round %d: row %d of its chain", round, r.Seq)
			}
		}
		if len(st.rows) != n || len(chains) != n {
			t.Fatalf("round %d: %d rows in %d chains, want %d in %d", round, len(st.rows), len(chains), n, n)
		}
	}
}
