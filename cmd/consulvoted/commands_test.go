package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"consulvote/app/backend"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/testenv"
)

// newDB makes a database (and its key) at path, with the demonstration
// roll when demo, and returns it open.
func newDB(t *testing.T, path string, demo bool) *backend.Backend {
	t.Helper()
	b, err := backend.Open(context.Background(), backend.Config{Database: path, Create: true, Demo: demo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// openDB opens an existing database.
func openDB(t *testing.T, path string) *backend.Backend {
	t.Helper()
	b, err := backend.Open(context.Background(), backend.Config{Database: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// runCmd runs consulvoted with args and returns its exit code and what it
// printed.
func runCmd(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestAuditVerifyCommand: intact → exit 0; an edited row → exit 1 naming it.
func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	b := newDB(t, path, true)
	svc := b.Service
	ctx := context.Background()
	svc.Portal.Login(ctx, service.DemoRoll[0].Identifier, "wrong")
	svc.Portal.Login(ctx, service.DemoRoll[0].Identifier, service.DemoRoll[0].Password)
	c, _ := svc.Portal.NewSecurityCode(ctx)
	svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: "99999999", Email: "a@example.org", CodeID: c.ID, Code: "0000"})
	if err := svc.Operator.CheckpointAudit(ctx); err != nil {
		t.Fatal(err)
	}
	b.Close()

	run := func(args ...string) (int, string) {
		code, out, errs := runCmd("", args...)
		return code, out + errs
	}
	if code, out := run("audit", "verify", "--db", path); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Fatalf("intact: %d %s", code, out)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// Against the checkpoint line of the server's log: the database holds
	// it; not the one after, nor another signature under its number.
	var seq int64
	var mac []byte
	if err := raw.QueryRow(`SELECT seq, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&seq, &mac); err != nil {
		t.Fatal(err)
	}
	if code, out := run("audit", "verify", "--db", path, "--checkpoint", fmt.Sprintf("%d:%x", seq, mac)); code != 0 {
		t.Errorf("the log's checkpoint, held: %d %s", code, out)
	}
	for _, cp := range []string{fmt.Sprintf("%d:%x", seq+1, mac), fmt.Sprintf("%d:%x", seq, bytes.Repeat([]byte{7}, len(mac)))} {
		if code, out := run("audit", "verify", "--db", path, "--checkpoint", cp); code != 1 || !strings.Contains(out, "rolled back") {
			t.Errorf("--checkpoint %s, not held: %d %s", cp, code, out)
		}
	}
	if code, out := run("audit", "verify", "--db", path, "--checkpoint", "x"); code != 2 || !strings.Contains(out, "SEQ:MAC") {
		t.Errorf("--checkpoint x: %d %s", code, out)
	}
	if _, err := raw.Exec(`UPDATE audit SET action = 'login' WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	code, out := run("audit", "verify", "--db", path)
	if code != 1 || !strings.Contains(out, "row 4: its content does not match its MAC") {
		t.Fatalf("tampered: %d %s", code, out)
	}
	// Nor does restore's check of a copy.
	if _, err := verifyCopy(context.Background(), path, path+".key"); err == nil {
		t.Errorf("restore's check passed a tampered log")
	}
	raw.Close()
	// --db has its twin, like every flag.
	t.Setenv("CONSULVOTE_DB", path)
	if code, out := run("audit", "verify"); code != 1 || !strings.Contains(out, "row 4: its content does not match its MAC") {
		t.Fatalf("CONSULVOTE_DB: %d %s", code, out)
	}
	t.Setenv("CONSULVOTE_DB", "")
	if code, out := run("audit", "verify"); code != 2 || !strings.Contains(out, "--db") {
		t.Fatalf("no --db: %d %s", code, out)
	}
	if code, out := run("audit", "verify", "--db", filepath.Join(dir, "none.db")); code != 2 {
		t.Fatalf("missing db: %d %s", code, out)
	}
	os.Remove(path + ".key")
	if code, out := run("audit", "verify", "--db", path); code != 2 || !strings.Contains(out, "--key") {
		t.Fatalf("missing key: %d %s", code, out)
	}
}

func TestAgentAddCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	newDB(t, path, false).Close()
	run := func(stdin string, args ...string) (int, string) {
		code, out, errs := runCmd(stdin, args...)
		return code, out + errs
	}
	// Flags after the name, password from a pipe.
	qr := filepath.Join(t.TempDir(), "alice-totp.png")
	code, out := run("correct horse battery\n", "agent", "add", "--db", path, "alice", "--role", "admin", "--qr", qr, "--central")
	if code != 0 || !strings.Contains(out, "agent alice added (admin, central office: every circonscription)") {
		t.Fatalf("%d %s", code, out)
	}
	// The second factor is shown once: a QR code in the terminal and in a
	// private PNG, the secret, and 10 recovery codes.
	secret := regexp.MustCompile(`Or type the secret: ([A-Z2-7]+)`).FindStringSubmatch(out)
	recovery := regexp.MustCompile(`(?m)^  [A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$`).FindAllString(out, -1)
	if secret == nil || len(recovery) != 10 || !strings.Contains(out, "▀") {
		t.Fatalf("enrollment output:\n%s", out)
	}
	if st, err := os.Stat(qr); err != nil || testenv.FileModes && st.Mode().Perm() != 0o600 {
		t.Fatalf("QR code PNG: %v %v", st, err)
	}
	if code, out := run("correct horse battery\n", "agent", "add", "--db", path, "root", "--role", "admin", "--no-totp", "--central"); code != 2 || !strings.Contains(out, "second factor") {
		t.Errorf("an admin without second factor: %d %s", code, out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "alice", "--role", "admin", "--central"}, 1, "already exists"},
		{"short\n", []string{"agent", "add", "--db", path, "bob", "--role", "agent", "--central"}, 1, "at least 12"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "bob", "--role", "agent"}, 2, "--circonscription NAME (repeatable) or --central"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "bob", "--role", "agent", "--central", "--circonscription", "Allemagne"}, 2, "not both"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "bob", "--role", "boss"}, 2, "admin or agent"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "--role", "agent"}, 2, "one NAME"},
		{"", []string{"agent", "remove", "--db", path, "bob"}, 2, "usage"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "bob", "--role", "agent", "--no-totp", "--email", "bob"}, 2, "not an e-mail address"},
		{"correct horse battery\n", []string{"agent", "add", "--db", path, "carol", "--role", "agent", "--no-totp", "--email", "Carol@Consulat.example", "--central"}, 0, "agent carol added"},
	} {
		if code, out := run(tc.stdin, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: %d %s; want %d %q", tc.args, code, out, tc.code, tc.want)
		}
	}
	// A consulate's agent: its circonscriptions, repeated.
	if code, out := run("correct horse battery\n", "agent", "add", "--db", path, "carl", "--role", "agent", "--no-totp",
		"--circonscription", "Allemagne", "--circonscription", " Autriche "); code != 0 || !strings.Contains(out, "agent carl added (agent, circonscriptions: Allemagne, Autriche)") {
		t.Errorf("agent add --circonscription: %d %s", code, out)
	}
	svc := openDB(t, path).Service
	if raw, err := sql.Open("sqlite", path); err != nil {
		t.Error(err)
	} else {
		var email string
		if err := raw.QueryRow(`SELECT email FROM agents WHERE name = 'carol'`).Scan(&email); err != nil || email != "carol@consulat.example" {
			t.Errorf("carol's alerts go to %q (%v)", email, err)
		}
		raw.Close()
	}
	if s, err := svc.Office.AgentLogin(context.Background(), "carl", "correct horse battery", ""); err != nil || s.Scope.Central || fmt.Sprint(s.Scope.Circonscriptions) != "[Allemagne Autriche]" {
		t.Errorf("carl's session: %+v %v", s, err)
	}
	if _, err := svc.Office.AgentLogin(context.Background(), "alice", "correct horse battery", ""); err == nil {
		t.Fatal("an admin logged in without the second factor")
	}
	s, err := svc.Office.AgentLogin(context.Background(), "alice", "correct horse battery", servicetest.TOTP(t, secret[1], time.Now()))
	if err != nil || s.Role != "admin" {
		t.Fatalf("login of the added agent with its code: %+v, %v", s, err)
	}
	if _, err := svc.Office.AgentLogin(context.Background(), "alice", "correct horse battery", strings.TrimSpace(recovery[0])); err != nil {
		t.Fatalf("login with a recovery code: %v", err)
	}
	if _, err := svc.Office.AgentLogin(context.Background(), "alice", "correct horse battery", strings.TrimSpace(recovery[0])); err == nil {
		t.Fatal("a recovery code served twice")
	}
}

// TestAgentResetTOTPCommand: `agent reset-totp NAME` shows a new second
// factor once, as `agent add` does; the old secret, its recovery codes
// and the agent's sessions no longer work; nothing changes when the name
// is unknown or the QR code's file exists.
func TestAgentResetTOTPCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	newDB(t, path, false).Close()
	secretOf := func(out string) string {
		m := regexp.MustCompile(`Or type the secret: ([A-Z2-7]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no secret in:\n%s", out)
		}
		return m[1]
	}
	code, out, errs := runCmd("correct horse battery\n", "agent", "add", "--db", path, "alice", "--role", "admin", "--qr", filepath.Join(dir, "a.png"), "--central")
	if code != 0 {
		t.Fatalf("agent add: %d %s%s", code, out, errs)
	}
	old := secretOf(out)
	oldRecovery := regexp.MustCompile(`(?m)^  ([A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4})$`).FindStringSubmatch(out)[1]
	b := openDB(t, path)
	s, err := b.Service.Office.AgentLogin(context.Background(), "alice", "correct horse battery", servicetest.TOTP(t, old, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()

	// Refused before anything changes: no name, an unknown one, a QR
	// code file that exists.
	exists := filepath.Join(dir, "exists.png")
	os.WriteFile(exists, []byte("someone's"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--db", path}, 2, "give one NAME"},
		{[]string{"--db", path, "carol", "--qr", filepath.Join(dir, "c.png")}, 1, `agent "carol": no such agent`},
		{[]string{"--db", path, "alice", "--qr", exists}, 2, "exists.png exists: delete it (once scanned) or name another file"},
		{[]string{"--db", filepath.Join(dir, "typo.db"), "alice", "--qr", filepath.Join(dir, "t.png")}, 2, "typo.db does not exist"},
	} {
		code, out, errs := runCmd("", append([]string{"agent", "reset-totp"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) || strings.Contains(out, "secret") {
			t.Errorf("%v: %d %s%s; want %d %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
	if b, _ := os.ReadFile(exists); string(b) != "someone's" {
		t.Error("an existing file was overwritten")
	}
	if _, err := os.Stat(filepath.Join(dir, "c.png")); err == nil {
		t.Error("a QR code was written for an unknown agent")
	}

	qr := filepath.Join(dir, "alice-new.png")
	code, out, errs = runCmd("", "agent", "reset-totp", "--db", path, "alice", "--qr", qr)
	if code != 0 || !strings.Contains(out, "second factor of agent alice reset") {
		t.Fatalf("reset: %d %s%s", code, out, errs)
	}
	secret := secretOf(out)
	recovery := regexp.MustCompile(`(?m)^  [A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$`).FindAllString(out, -1)
	if secret == old || len(recovery) != 10 || !strings.Contains(out, "▀") {
		t.Fatalf("reset output:\n%s", out)
	}
	if st, err := os.Stat(qr); err != nil || testenv.FileModes && st.Mode().Perm() != 0o600 {
		t.Fatalf("QR code PNG: %v %v", st, err)
	}
	b = openDB(t, path)
	ctx := context.Background()
	if _, err := b.Service.Office.PendingContactChanges(ctx, s.Token); err == nil {
		t.Error("the session opened before the reset still works")
	}
	for what, c := range map[string]string{"old code": servicetest.TOTP(t, old, time.Now()), "old recovery code": oldRecovery} {
		if _, err := b.Service.Office.AgentLogin(ctx, "alice", "correct horse battery", c); err == nil {
			t.Errorf("the %s still opens a session", what)
		}
	}
	if _, err := b.Service.Office.AgentLogin(ctx, "alice", "correct horse battery", servicetest.TOTP(t, secret, time.Now())); err != nil {
		t.Errorf("the new code: %v", err)
	}
	if _, err := b.Service.Office.AgentLogin(ctx, "alice", "correct horse battery", strings.TrimSpace(recovery[4])); err != nil {
		t.Errorf("a new recovery code: %v", err)
	}
	b.Close()
	if code, out, errs := runCmd("", "audit", "verify", "--db", path); code != 0 {
		t.Errorf("audit verify after the reset: %d %s%s", code, out, errs)
	}
}

// TestRollImportKilled kills `consulvoted roll import` (kill -9) in the
// middle: the database reopens intact, holds whole batches only, and a
// second run finishes the job.
func TestRollImportKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := build(t)
	path := filepath.Join(dir, "portal.db")
	newDB(t, path, false).Close()
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
		if strings.Contains(sc.Text(), "lines/s") {
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
	want := fmt.Sprintf("%d lines read of the file's %d (after the header): %d added, 0 updated, %d unchanged, 0 refused", n, n, n-count, count)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second run said %q, want %q", out, want)
	}
}

func TestCredentialsSendCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	newDB(t, path, false).Close()
	roll := filepath.Join(t.TempDir(), "roll.csv")
	f, _ := os.Create(roll)
	servicetest.WriteRoll(f, 30, 0)
	f.Close()
	if code, out, errs := runCmd("", "roll", "import", "--db", path, roll); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	// The sender is the one setting every command shares (--from,
	// CONSULVOTE_FROM), not a placeholder of its own.
	t.Setenv("CONSULVOTE_FROM", "MEAE <noreply@vote.example>")
	if code, out, errs := runCmd("", "credentials", "send", "--db", path, "--campaign", "mai-2026"); code != 0 ||
		!strings.Contains(out, "campaign mai-2026: 30 voters served") {
		t.Fatalf("send: %d %s %s", code, out, errs)
	}
	if _, out, _ := runCmd("", "credentials", "send", "--db", path, "--campaign", "mai-2026"); !strings.Contains(out, ": 0 voters served") {
		t.Fatalf("second send: %s", out)
	}
	b := openDB(t, path)
	ms := servicetest.Outbox(t, b.Service, b.Store, 100)
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
	if code, _, errs := runCmd("", "credentials", "send", "--db", path); code != 2 || !strings.Contains(errs, "--campaign") {
		t.Fatalf("no campaign: %d %s", code, errs)
	}
}

// TestRollImportCreate: `roll import` makes a new database only when asked
// (--create); otherwise a mistyped --db is an error and nothing is made.
func TestRollImportCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "portal.db")
	roll := filepath.Join(dir, "roll.csv")
	f, _ := os.Create(roll)
	if _, err := servicetest.WriteRoll(f, 12, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if code, _, errs := runCmd("", "roll", "import", "--db", path, roll); code != 2 || !strings.Contains(errs, "--db") {
		t.Fatalf("without --create: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Dir(path)); err == nil {
		t.Fatal("an import without --create made the database's folder")
	}
	code, out, errs := runCmd("", "roll", "import", "--create", "--db", path, roll)
	if code != 0 || !strings.Contains(out, "12 lines read of the file's 12 (after the header): 12 added") {
		t.Fatalf("with --create: %d %s %s", code, out, errs)
	}
	// The database and its key are there, and the import was audited and
	// signed: the log verifies, with a checkpoint at its end.
	if code, out, _ := runCmd("", "audit", "verify", "--db", path); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("verify after --create: %d %s", code, out)
	}
	b := openDB(t, path)
	if n, cps := servicetest.UnsignedRows(t, b.Store); n != 0 || cps == 0 {
		t.Errorf("%d audit rows not signed, %d checkpoints", n, cps)
	}
}

// TestRollImportReportsDeskChange: an import that would undo an approved
// change of contact details keeps the desk's value and says so.
func TestRollImportReportsDeskChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	b := newDB(t, path, true)
	ctx := context.Background()
	tokens := map[string]string{}
	for name, role := range map[string]portal.Role{"bob": portal.RoleAgent, "alice": portal.RoleAdmin} {
		enr, err := b.Service.Operator.AddAgent(ctx, name, role, "correct horse battery", role == portal.RoleAdmin, portal.Scope{Central: true})
		if err != nil {
			t.Fatal(err)
		}
		code := ""
		if enr.Secret != "" {
			code = servicetest.TOTP(t, enr.Secret, time.Now())
		}
		s, err := b.Service.Office.AgentLogin(ctx, name, "correct horse battery", code)
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = s.Token
	}
	marie := service.DemoRoll[0]
	found, _ := b.Service.Office.FindVoters(ctx, tokens["bob"], marie.NUMIC)
	c, err := b.Service.Office.ProposeContactChange(ctx, tokens["bob"], portal.ContactChangeRequest{VoterID: found[0].ID,
		Email: "marie.nouvelle@example.org", Document: portal.DocPassport, Reason: "au guichet"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Office.ApproveContactChange(ctx, tokens["alice"], c.ID); err != nil {
		t.Fatal(err)
	}
	roll := filepath.Join(dir, "roll.csv")
	os.WriteFile(roll, []byte("NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n"+
		fmt.Sprintf("%s;%s;%s;%s;%s;%s\n", marie.NUMIC, marie.LastName, marie.FirstNames, marie.Email, marie.Mobile, marie.Circonscription)), 0o600)
	code, out, errs := runCmd("", "roll", "import", "--db", path, roll)
	if code != 0 || !strings.Contains(out, "1 contact detail(s) changed at the desk kept, different from the roll:") ||
		!strings.Contains(out, `line 2, NUMIC 00012345, adresse électronique: kept "marie.nouvelle@example.org"`) ||
		!strings.Contains(out, `the roll has "marie.dupont@example.org"`) {
		t.Fatalf("roll import: %d\n%s\n%s", code, out, errs)
	}
	f, err := b.Service.Office.VoterFile(ctx, tokens["bob"], found[0].ID)
	if err != nil || f.Email != "marie.nouvelle@example.org" {
		t.Fatalf("after the import the e-mail is %q (%v)", f.Email, err)
	}
}

// TestAuditVerifyCheckpointsFromLog: --checkpoints-from checks every
// "audit checkpoint" line of the server's JSON log, as the server writes
// it, not only the newest: a checkpoint deleted and signed over under its
// number by another instance (whose log the operator may not have) shows,
// where the database's newest checkpoint, given as --checkpoint, passes.
// --checkpoint may be repeated. Malformed input is exit 2.
func TestAuditVerifyCheckpointsFromLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{Database: path, Create: true, Demo: true,
		Logger: slog.New(slog.NewJSONHandler(logFile, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		b.Service.Portal.Login(ctx, fmt.Sprintf("no-such-identifier-%d", i), "x")
		if err := b.Service.Operator.CheckpointAudit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	run := func(args ...string) (int, string) {
		code, out, errs := runCmd("", append([]string{"audit", "verify", "--db", path}, args...)...)
		return code, out + errs
	}
	if code, out := run("--checkpoints-from", logPath); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("the server's own log, nothing changed: %d %s", code, out)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	newest := func() string {
		var seq int64
		var mac []byte
		if err := raw.QueryRow(`SELECT seq, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&seq, &mac); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d:%x", seq, mac)
	}
	first := func() string {
		var mac []byte
		if err := raw.QueryRow(`SELECT mac FROM audit_checkpoints WHERE seq = 1`).Scan(&mac); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("1:%x", mac)
	}()
	if code, out := run("--checkpoint", first, "--checkpoint", newest()); code != 0 {
		t.Errorf("two checkpoints held: %d %s", code, out)
	}
	// The newest checkpoint deleted; another instance (logging elsewhere)
	// signs again under its number.
	var last int64
	raw.QueryRow(`SELECT MAX(seq) FROM audit_checkpoints`).Scan(&last)
	for _, q := range []string{`DELETE FROM audit_checkpoints WHERE seq = ?`, `UPDATE audit SET checkpoint = 0 WHERE checkpoint = ?`} {
		if _, err := raw.Exec(q, last); err != nil {
			t.Fatal(err)
		}
	}
	other := openDB(t, path)
	other.Service.Portal.Login(ctx, "no-such-identifier-9", "x")
	if err := other.Service.Operator.CheckpointAudit(ctx); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if code, out := run("--checkpoint", newest()); code != 0 {
		t.Errorf("the database's newest checkpoint: %d %s; it holds it, the database alone shows nothing", code, out)
	}
	if code, out := run("--checkpoints-from", logPath); code != 1 || !strings.Contains(out, "rolled back") {
		t.Errorf("the server's log after its checkpoint %d was signed over: %d %s", last, code, out)
	}
	if code, out := run("--checkpoint", first, "--checkpoint", fmt.Sprintf("%d:%x", last, bytes.Repeat([]byte{7}, 32))); code != 1 ||
		!strings.Contains(out, "rolled back") {
		t.Errorf("one of two checkpoints not held: %d %s", code, out)
	}
	// A failure to sign is no checkpoint line.
	failed, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	failed = append(failed, `{"level":"ERROR","msg":"audit checkpoint","err":"audit checkpoint: database is locked"}`+"\n"...)
	if err := os.WriteFile(logPath, failed, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := run("--checkpoints-from", logPath); code != 1 {
		t.Errorf("a log with a failure to sign: %d %s; want 1 (rolled back), not 2", code, out)
	}
	// Malformed input.
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ file, want string }{
		{write("bad-mac.log", `{"level":"INFO","msg":"audit checkpoint","seq":1,"mac":"zz"}`+"\n"), "line 1"},
		{write("no-seq.log", "not json\n"+`{"msg":"audit checkpoint","mac":"00"}`+"\n"), "line 2"},
		{write("none.log", `{"msg":"listening"}`+"\n"), "no \"audit checkpoint\" line"},
		{filepath.Join(dir, "missing.log"), "--checkpoints-from"},
	} {
		if code, out := run("--checkpoints-from", c.file); code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("--checkpoints-from %s: %d %s; want 2 and %q", filepath.Base(c.file), code, out, c.want)
		}
	}
	// A log without a checkpoint beside one with them: a command that
	// audited nothing; every log given, the verification goes on.
	if code, out := run("--checkpoints-from", logPath, "--checkpoints-from", filepath.Join(dir, "none.log")); code != 1 || !strings.Contains(out, "rolled back") {
		t.Errorf("with a log without checkpoints beside the server's: %d %s; want the server log's finding (1, rolled back)", code, out)
	}
}

// TestCommandCheckpointWitness: the checkpoint a command signs when it
// ends was logged nowhere; rolled back with the command's rows, nothing
// showed it. Now its line goes to the standard error (or --log FILE,
// appended to), and audit verify --checkpoints-from takes it: held, it
// passes; signed over under its number, it is reported rolled back.
func TestCommandCheckpointWitness(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	newDB(t, path, false).Close()
	roll := filepath.Join(dir, "roll.csv")
	f, _ := os.Create(roll)
	servicetest.WriteRoll(f, 5, 0)
	f.Close()
	code, out, errs := runCmd("", "roll", "import", "--db", path, roll)
	if code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if !strings.Contains(errs, `"msg":"audit checkpoint"`) || !strings.Contains(errs, `"mac":"`) {
		t.Fatalf("roll import wrote no checkpoint line to the standard error:\n%s", errs)
	}
	stderrLog := filepath.Join(dir, "import.err")
	if err := os.WriteFile(stderrLog, []byte(errs), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "server.log")
	if err := os.WriteFile(logPath, []byte("not JSON: a server's earlier line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCmd("", "roll", "import", "--db", path, "--log", logPath, roll)
	if code != 0 || strings.Contains(errs, `"msg":"audit checkpoint"`) {
		t.Fatalf("import --log: %d %s %s", code, out, errs)
	}
	logged, err := os.ReadFile(logPath)
	if err != nil || !strings.HasPrefix(string(logged), "not JSON") || !strings.Contains(string(logged), `"msg":"audit checkpoint"`) {
		t.Fatalf("--log should append the checkpoint line: %q, %v", logged, err)
	}
	verify := func(from string) (int, string) {
		code, out, errs := runCmd("", "audit", "verify", "--db", path, "--checkpoints-from", from)
		return code, out + errs
	}
	for _, from := range []string{stderrLog, logPath} {
		if code, out := verify(from); code != 0 || !strings.Contains(out, "intact") {
			t.Fatalf("the command's own lines (%s), nothing changed: %d %s", from, code, out)
		}
	}
	// The second command's checkpoint deleted and signed over by another
	// instance under its number.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var last int64
	raw.QueryRow(`SELECT MAX(seq) FROM audit_checkpoints`).Scan(&last)
	for _, q := range []string{`DELETE FROM audit_checkpoints WHERE seq = ?`, `UPDATE audit SET checkpoint = 0 WHERE checkpoint = ?`} {
		if _, err := raw.Exec(q, last); err != nil {
			t.Fatal(err)
		}
	}
	other := openDB(t, path)
	other.Service.Portal.Login(context.Background(), "no-such-identifier", "x")
	if err := other.Service.Operator.CheckpointAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	other.Close()
	if code, out := verify(logPath); code != 1 || !strings.Contains(out, "rolled back") {
		t.Errorf("the command's checkpoint %d signed over: %d %s; want rolled back", last, code, out)
	}
	// --checkpoints-from is repeatable: every log counts, not the last.
	if code, out := verify(stderrLog); code != 0 {
		t.Fatalf("the first command's line alone is held: %d %s", code, out)
	}
	code, out, errs = runCmd("", "audit", "verify", "--db", path, "--checkpoints-from", logPath, "--checkpoints-from", stderrLog)
	if code != 1 || !strings.Contains(out+errs, "rolled back") {
		t.Errorf("two logs, the first's checkpoint signed over: %d %s %s; want rolled back", code, out, errs)
	}
}

// TestRollImportErrorsFileIsPrivate: the refused lines hold NUMICs,
// e-mails and mobiles: --errors writes them 0600, a file already there
// (0644) included, and replaces what it held.
func TestRollImportErrorsFileIsPrivate(t *testing.T) {
	if !testenv.FileModes {
		t.Skip("no file modes here")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "portal.db")
	newDB(t, path, false).Close()
	roll := filepath.Join(dir, "roll.csv")
	f, _ := os.Create(roll)
	if _, err := servicetest.WriteRoll(f, 100, 10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	old := filepath.Join(dir, "old.csv")
	os.WriteFile(old, []byte(strings.Repeat("x\n", 1000)), 0o644)
	os.Chmod(old, 0o644)
	for _, errs := range []string{filepath.Join(dir, "refus.csv"), old} {
		if code, out, stderr := runCmd("", "roll", "import", "--db", path, "--errors", errs, roll); code != 0 {
			t.Fatalf("import: %d %s %s", code, out, stderr)
		}
		st, err := os.Stat(errs)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("--errors %s: %v %v, want mode 0600", errs, st, err)
		}
		if b, _ := os.ReadFile(errs); strings.Count(string(b), "\n") != 11 {
			t.Errorf("--errors %s holds %d lines, want the header and 10", errs, strings.Count(string(b), "\n"))
		}
	}
}
