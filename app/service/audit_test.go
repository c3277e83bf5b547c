package service_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"

	"consulvote/app/audit"
	"consulvote/app/portal"
	"consulvote/app/service"
)

// The algorithm's findings are tested in app/audit, on both databases in
// app/storetest; here, what the service adds: its rows sealed in its own
// transactions, its checkpoints in its log, the admin's report.

// auditEnv is an env with some history in its audit log, signed.
func auditEnv(t *testing.T) *env {
	e := newEnv(t)
	e.request("99999999", "x@example.org")
	e.confirm(e.requestLink(), "wrong")
	e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password)
	if err := e.svc.Operator.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("audit", "checkpoint = 0"); n != 0 {
		t.Fatalf("%d rows left unsigned by the checkpoint", n)
	}
	return e
}

// loggedCheckpoints reads the checkpoints of the env's log as audit
// verify --checkpoints-from does.
func (e *env) loggedCheckpoints() []audit.Checkpoint {
	e.t.Helper()
	var out []audit.Checkpoint
	sc := bufio.NewScanner(bytes.NewReader(e.logs.Bytes()))
	for sc.Scan() {
		var line struct {
			Msg  string
			Seq  int64
			Rows int64
			MAC  string
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "audit checkpoint" {
			continue
		}
		mac, err := hex.DecodeString(line.MAC)
		if err != nil || line.Seq < 1 || line.Rows < 1 {
			e.t.Fatalf("checkpoint line %s", sc.Bytes())
		}
		out = append(out, audit.Checkpoint{Seq: line.Seq, MAC: mac})
	}
	return out
}

func TestAuditReport(t *testing.T) {
	e := auditEnv(t)
	admin := e.agent("chef", portal.RoleAdmin)
	r, err := e.svc.Office.VerifyAudit(e.ctx, admin)
	if err != nil || len(r.Problems) != 0 || r.Rows < 5 {
		t.Fatalf("VerifyAudit = %+v, %v; want an intact log of at least 5 rows", r, err)
	}
	var id int64
	if err := e.raw.QueryRow(`SELECT MIN(id) FROM audit`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	e.exec(`UPDATE audit SET detail = 'nothing happened' WHERE id = ?`, id)
	r, err = e.svc.Office.VerifyAudit(e.ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	want := []portal.AuditFinding{{Row: id, Cause: audit.Altered}}
	if !slices.Equal(r.Findings, want) || len(r.Problems) != 1 {
		t.Errorf("VerifyAudit findings %+v, problems %q; want %+v", r.Findings, r.Problems, want)
	}
	if got := e.audited("audit.verified"); len(got) != 2 || got[1].facts["problems"] != "1" {
		t.Errorf("audit.verified rows %+v; want two, the second with 1 problem", got)
	}
}

// TestAuditCheckpointLogged: each checkpoint is in the log, which shows a
// rollback the database alone cannot: the newest checkpoint deleted with
// the rows it signed.
func TestAuditCheckpointLogged(t *testing.T) {
	e := auditEnv(t)
	e.svc.Portal.Login(e.ctx, marie.Identifier, "wrong")
	if err := e.svc.Operator.CheckpointAudit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Operator.CheckpointAudit(e.ctx); err != nil { // nothing new: not signed, not logged
		t.Fatal(err)
	}
	logged := e.loggedCheckpoints()
	if len(logged) != 2 || logged[1].Seq != 2 {
		t.Fatalf("logged checkpoints %+v; want 1 and 2", logged)
	}
	if problems, _, err := e.svc.Operator.VerifyAuditLog(e.ctx, logged...); err != nil || len(problems) != 0 {
		t.Fatalf("VerifyAuditLog = %v, %v", problems, err)
	}
	e.exec(`DELETE FROM audit WHERE checkpoint = 2`)
	e.exec(`DELETE FROM audit_checkpoints WHERE seq = 2`)
	if problems, _, err := e.svc.Operator.VerifyAuditLog(e.ctx); err != nil || len(problems) != 0 {
		t.Fatalf("VerifyAuditLog without the log = %v, %v; want nothing seen", problems, err)
	}
	problems, _, err := e.svc.Operator.VerifyAuditLog(e.ctx, logged...)
	if want := []audit.Problem{{Cause: audit.RolledBack, Checkpoint: 2, N: 1}}; err != nil || !slices.Equal(problems, want) {
		t.Errorf("VerifyAuditLog against the log = %v, %v; want %v", problems, err, want)
	}
}

// TestAuditAnyStorage: the service audits in any transaction of a store,
// not only those its own Update made.
func TestAuditAnyStorage(t *testing.T) {
	e := newEnv(t)
	before := e.count("audit", "1")
	if err := e.db.Update(e.ctx, func(tx service.Tx) error { return service.AuditForTest(e.svc, tx) }); err != nil {
		t.Fatal(err)
	}
	if n := e.count("audit", "1"); n != before+1 || !e.svc.Operator.Audited() {
		t.Errorf("%d rows after one audited, from %d (audited %v)", n, before, e.svc.Operator.Audited())
	}
}
