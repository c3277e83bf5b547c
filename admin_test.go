package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// TestAuditVerifyCommand: intact → exit 0; an edited row → exit 1 naming it.
func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	svc, db, err := openLocal(context.Background(), path, true, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc.Login(ctx, service.DemoRoll[0].Identifier, "wrong")
	svc.Login(ctx, service.DemoRoll[0].Identifier, service.DemoRoll[0].Password)
	c, _ := svc.NewSecurityCode(ctx)
	svc.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: "99999999", Email: "a@example.org", CodeID: c.ID, Code: "0000"})
	if err := svc.CheckpointAudit(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()

	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := adminCommand(args, nil, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("audit", "verify", "--db", path); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("intact: %d %s", code, out)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit SET action = 'login' WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	code, out := run("audit", "verify", "--db", path)
	if code != 1 || !strings.Contains(out, "row 4: altered") {
		t.Fatalf("tampered: %d %s", code, out)
	}
	if code, out := run("audit", "verify"); code != 2 || !strings.Contains(out, "--db") {
		t.Fatalf("no --db: %d %s", code, out)
	}
	if code, out := run("audit", "verify", "--db", filepath.Join(dir, "none.db")); code != 2 {
		t.Fatalf("missing db: %d %s", code, out)
	}
	os.Remove(path + ".key")
	if code, out := run("audit", "verify", "--db", path); code != 1 || !strings.Contains(out, "--key") {
		t.Fatalf("missing key: %d %s", code, out)
	}
}
