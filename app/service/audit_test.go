package service_test

import (
	"strings"
	"testing"

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

// rewriteChain recomputes every hash of the chain from the stored rows.
func rewriteChain(e *env) {
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
		h := service.AuditHash(prev, id, r.AuditEntry)
		e.exec(`UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?`, prev, h, id)
		prev = h
	}
}
