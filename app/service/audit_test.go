package service_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// auditEnv is an env with some history in its audit log and a checkpoint.
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

func TestAuditIntact(t *testing.T) {
	e := auditEnv(t)
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("an untouched log has problems: %v", p)
	}
	// A second checkpoint with no new row adds nothing.
	e.svc.CheckpointAudit(e.ctx)
	e.svc.CheckpointAudit(e.ctx)
	if n := e.count("audit_checkpoints", "1"); n != 2 {
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
		id     int64
		kind   string
	}{
		{"edited detail", func(e *env) { e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE id = 4`) }, 4, "altered"},
		{"edited time", func(e *env) { e.exec(`UPDATE audit SET at = at - 3600000000000 WHERE id = 6`) }, 6, "altered"},
		{"edited actor", func(e *env) { e.exec(`UPDATE audit SET actor = 'voter:2' WHERE id = 5`) }, 5, "altered"},
		{"deleted row", func(e *env) { e.exec(`DELETE FROM audit WHERE id = 5`) }, 6, "deleted"},
		{"reordered rows", func(e *env) {
			e.exec(`UPDATE audit SET id = -5 WHERE id = 5`)
			e.exec(`UPDATE audit SET id = 5 WHERE id = 6`)
			e.exec(`UPDATE audit SET id = 6 WHERE id = -5`)
		}, 5, "reordered"},
		{"tail deleted past the checkpoint", func(e *env) {
			e.exec(`DELETE FROM audit WHERE id >= (SELECT audit_id FROM audit_checkpoints ORDER BY id DESC LIMIT 1)`)
		}, -1, "deleted"},
		{"chain rewritten after an edit", func(e *env) {
			// Edit a row, then recompute every hash after it, as one can
			// without the key: only the signed checkpoint shows it.
			e.exec(`UPDATE audit SET detail = 'rewritten' WHERE id = 3`)
			rewriteChain(e)
		}, -1, "altered"},
		{"forged checkpoint", func(e *env) { e.exec(`UPDATE audit_checkpoints SET mac = zeroblob(32)`) }, -1, "checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := auditEnv(t)
			var cp int64
			e.raw.QueryRow(`SELECT audit_id FROM audit_checkpoints ORDER BY id DESC LIMIT 1`).Scan(&cp)
			tc.tamper(e)
			problems := e.verify()
			want := tc.id
			if want == -1 {
				want = cp
			}
			found := false
			for _, p := range problems {
				if p.ID == want && p.Kind == tc.kind {
					found = true
				}
			}
			if !found {
				t.Fatalf("want %s at row %d; found %v", tc.kind, want, problems)
			}
			if !strings.Contains(problems[0].String(), "row ") {
				t.Errorf("problem text %q does not say which row", problems[0].String())
			}
		})
	}
}

// rewriteChain recomputes every hash of the chain from the stored rows, as
// the older version chained them (SHA-256, no key).
func rewriteChain(e *env) { rewriteChainWith(e, service.LegacyAuditHash) }

// rewriteChainWith recomputes every hash of the chain with hash.
func rewriteChainWith(e *env, hash func(prev []byte, id int64, entry service.AuditEntry) []byte) {
	rows, err := e.raw.Query(`SELECT id FROM audit ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var prev []byte
	for _, id := range ids {
		var r service.AuditRow
		var at int64
		e.raw.QueryRow(`SELECT at, actor, action, COALESCE(voter_id, 0), detail FROM audit WHERE id = ?`, id).
			Scan(&at, &r.Actor, &r.Action, &r.VoterID, &r.Detail)
		r.At = timeFromNanos(at)
		h := hash(prev, id, r.AuditEntry)
		e.exec(`UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?`, prev, h, id)
		prev = h
	}
}

// TestAuditChainNeedsTheKey is the report's attack: every checkpoint
// deleted, a row edited, the chain computed again as the old version did
// (SHA-256) or under another key. Each is found.
func TestAuditChainNeedsTheKey(t *testing.T) {
	for name, rechain := range map[string]func(e *env){
		"sha-256":   rewriteChain,
		"other key": func(e *env) { rewriteChainWith(e, keyedWith(bytes.Repeat([]byte("x"), 32))) },
	} {
		t.Run(name, func(t *testing.T) {
			e := auditEnv(t)
			e.exec(`DELETE FROM audit_checkpoints`)
			e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE id = 4`)
			rechain(e)
			if p := e.verify(); !hasProblem(p, 4, "altered") {
				t.Fatalf("re-chained without the key: %v", p)
			}
		})
	}
	// With the right key the same rewrite is undetectable but for the
	// missing checkpoints: that is what the key protects.
	e := auditEnv(t)
	e.exec(`DELETE FROM audit_checkpoints`)
	e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE id = 4`)
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
	e.raw.QueryRow(`SELECT mac FROM audit_checkpoints WHERE id = 2`).Scan(&mac)
	if !strings.Contains(e.logs.String(), hex.EncodeToString(mac)) {
		t.Error("checkpoint 2's signature is not in the log")
	}
	var row int64
	e.raw.QueryRow(`SELECT audit_id FROM audit_checkpoints WHERE id = 3`).Scan(&row)
	e.exec(`DELETE FROM audit_checkpoints WHERE id = 2`)
	if p := e.verify(); !hasProblem(p, row, "checkpoint") {
		t.Fatalf("a checkpoint deleted from the middle: %v", p)
	}
}

// TestAuditChainUpgrade: a chain and checkpoints made by the older,
// unkeyed version move to the keyed chain when the service opens it, and
// verify; a tampered one is not moved and shows.
func TestAuditChainUpgrade(t *testing.T) {
	legacy := func(t *testing.T) *env {
		e := auditEnv(t)
		rewriteChain(e)
		rows, _ := e.raw.Query(`SELECT audit_id, hash FROM audit_checkpoints`)
		type cp struct {
			id   int64
			hash []byte
		}
		var cps []cp
		for rows.Next() {
			var c cp
			rows.Scan(&c.id, &c.hash)
			cps = append(cps, c)
		}
		rows.Close()
		for _, c := range cps {
			var h []byte
			e.raw.QueryRow(`SELECT hash FROM audit WHERE id = ?`, c.id).Scan(&h)
			m := hmac.New(sha256.New, e.cfg.Secret)
			m.Write([]byte("audit-checkpoint\x00" + fmt.Sprintf("%d:%x", c.id, h)))
			e.exec(`UPDATE audit_checkpoints SET hash = ?, mac = ? WHERE audit_id = ?`, h, m.Sum(nil), c.id)
		}
		return e
	}
	e := legacy(t)
	if p := e.verify(); len(p) == 0 {
		t.Fatal("the keyed verification accepted an unkeyed chain")
	}
	if err := e.svc.UpgradeAuditChain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if p := e.verify(); len(p) != 0 {
		t.Fatalf("after the move to the keyed chain: %v", p)
	}
	if n := e.count("audit", "action = 'audit.chain_keyed'"); n != 1 {
		t.Fatalf("%d moves audited", n)
	}

	e = legacy(t)
	e.exec(`UPDATE audit SET detail = 'edited' WHERE id = 2`)
	if err := e.svc.UpgradeAuditChain(e.ctx); err != nil {
		t.Fatal(err)
	}
	if p := e.verify(); !hasProblem(p, 2, "altered") || e.count("audit", "action = 'audit.chain_keyed'") != 0 {
		t.Fatalf("a tampered old chain was moved: %v", p)
	}
}

func hasProblem(ps []service.AuditProblem, id int64, kind string) bool {
	for _, p := range ps {
		if p.ID == id && p.Kind == kind {
			return true
		}
	}
	return false
}

// keyedWith is the keyed chain's hash under key, as the service makes it.
func keyedWith(key []byte) func(prev []byte, id int64, e service.AuditEntry) []byte {
	return func(prev []byte, id int64, e service.AuditEntry) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("audit-chain\x00"))
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
		num(id)
		num(e.At.UnixNano())
		field([]byte(e.Actor))
		field([]byte(e.Action))
		num(e.VoterID)
		field([]byte(e.Detail))
		return m.Sum(nil)
	}
}
