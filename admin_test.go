package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
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

func TestAgentAddCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	_, db, err := openLocal(context.Background(), path, false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	run := func(stdin string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := adminCommand(args, strings.NewReader(stdin), &out, &errb)
		return code, out.String() + errb.String()
	}
	// Flags after the name, password from a pipe.
	if code, out := run("correct horse battery\n", "agent", "add", "--db", path, "alice", "--role", "admin"); code != 0 || !strings.Contains(out, "agent alice added (admin)") {
		t.Fatalf("%d %s", code, out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "alice", "--role", "admin"}, 1, "already exists"},
		{"short\n", []string{"agent", "add", "--db", path, "bob", "--role", "agent"}, 1, "at least 12"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "bob", "--role", "boss"}, 1, "admin or agent"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "--role", "agent"}, 2, "one NAME"},
		{"", []string{"agent", "remove", "--db", path, "bob"}, 2, "usage"},
	} {
		if code, out := run(tc.stdin, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: %d %s; want %d %q", tc.args, code, out, tc.code, tc.want)
		}
	}
	svc, db2, err := openService(context.Background(), path, path+".key", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	s, err := svc.AgentLogin(context.Background(), "alice", "correct horse battery")
	if err != nil || s.Role != "admin" {
		t.Fatalf("login of the added agent: %+v, %v", s, err)
	}
}

// TestRollImportKilled kills `consulvote roll import` (kill -9) in the
// middle: the database reopens intact, holds whole batches only, and a
// second run finishes the job.
func TestRollImportKilled(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "consulvote")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "portal.db")
	_, db, err := openLocal(context.Background(), path, false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	const n = 200_000
	roll := filepath.Join(dir, "roll.csv")
	f, _ := os.Create(roll)
	if _, err := servicetest.WriteRoll(f, n, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cmd := exec.Command(bin, "roll", "import", "--db", path, roll)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for progress := 0; progress < 3 && sc.Scan(); {
		if strings.Contains(sc.Text(), "lignes/s") {
			progress++
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	var count int
	raw.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	raw.QueryRow(`SELECT COUNT(*) FROM voters`).Scan(&count)
	raw.Close()
	if check != "ok" {
		t.Fatalf("integrity_check after kill -9: %s", check)
	}
	if count == 0 || count == n || count%service.ImportBatch != 0 {
		t.Fatalf("%d voters after the kill: want whole batches, fewer than %d", count, n)
	}
	out, err := exec.Command(bin, "roll", "import", "--db", path, roll).Output()
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	want := fmt.Sprintf("%d lignes : %d ajoutées, 0 modifiées, %d inchangées, 0 refusées", n, n-count, count)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second run said %q, want %q", out, want)
	}
}

func TestCredentialsSendCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	_, db, err := openLocal(context.Background(), path, false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	roll := filepath.Join(t.TempDir(), "roll.csv")
	f, _ := os.Create(roll)
	servicetest.WriteRoll(f, 30, 0)
	f.Close()
	var out, errb bytes.Buffer
	if code := adminCommand([]string{"roll", "import", "--db", path, roll}, nil, &out, &errb); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	// The sender is the one setting every command shares (--from,
	// CONSULVOTE_FROM), not a placeholder of its own.
	t.Setenv("CONSULVOTE_FROM", "MEAE <noreply@vote.example>")
	if code := adminCommand([]string{"credentials", "send", "--db", path, "--campaign", "mai-2026"}, nil, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "campagne mai-2026 : 30 électeurs servis") {
		t.Fatalf("send: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	adminCommand([]string{"credentials", "send", "--db", path, "--campaign", "mai-2026"}, nil, &out, &errb)
	if !strings.Contains(out.String(), ": 0 électeurs servis") {
		t.Fatalf("second send: %s", out.String())
	}
	svc, st, err := openService(context.Background(), path, path+".key", "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := svc.Outbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	mails := 0
	for _, m := range ms {
		if m.Channel != service.ChannelEmail {
			continue
		}
		mails++
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if from := msg.Header.Get("From"); !strings.Contains(from, "noreply@vote.example") {
			t.Fatalf("credentials e-mail from %q, want the configured sender", from)
		}
	}
	if mails != 30 {
		t.Fatalf("%d e-mails queued, want 30", mails)
	}
	if code := adminCommand([]string{"credentials", "send", "--db", path}, nil, &out, &errb); code != 1 {
		t.Fatalf("no campaign: %d", code)
	}
}
