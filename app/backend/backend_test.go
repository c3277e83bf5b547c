package backend

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/testenv"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		setting string // "" when valid
	}{
		{"a file", Config{Database: "/var/lib/consulvote/portal.db"}, ""},
		{"no database", Config{}, "db"},
		{"a PostgreSQL URL without a key file", Config{Database: "postgres://vote:s3cret@db.example:5432/vote"}, "key-file"},
		{"a PostgreSQL URL", Config{Database: "postgres://vote:s3cret@db.example:5432/vote", KeyFile: "/etc/consulvote/key"}, ""},
		{"a PostgreSQL URL, other scheme", Config{Database: "postgresql://db.example/vote", KeyFile: "k"}, ""},
		{"a DSN without slashes", Config{Database: "postgres:host=db.example", KeyFile: "k"}, "db"},
		{"a key=value DSN", Config{Database: "host=db.example dbname=vote password=s3cret", KeyFile: "k"}, "db"},
		{"another database's URL", Config{Database: "mysql://vote:s3cret@db.example/vote", KeyFile: "k"}, "db"},
		{"a file with an equals sign", Config{Database: "/srv/vote=2026.db"}, ""},
		{"a tiny outbox lease", Config{Database: "x.db", OutboxLease: time.Millisecond}, "outbox-lease"},
		{"a bad relay", Config{Database: "x.db", SMTP: "mail.example:25"}, "smtp"},
		{"a good relay", Config{Database: "x.db", SMTP: "smtp://mail.example:587"}, ""},
		{"a bounce template", Config{Database: "x.db", BounceAddress: "bounce+{ref}@example.org"}, ""},
		{"a bounce address without {ref}", Config{Database: "x.db", BounceAddress: "bounce@example.org"}, "bounce-address"},
		{"a gateway in clear", Config{Database: "x.db", SMSGateway: "http://sms.example/send"}, "sms-gateway"},
		{"a gateway named like loopback", Config{Database: "x.db", SMSGateway: "http://127.0.0.1.nip.io/send"}, "sms-gateway"},
		{"a gateway on loopback", Config{Database: "x.db", SMSGateway: "http://127.0.0.1:9000/send"}, ""},
		{"a negative period", Config{Database: "x.db", CheckpointEvery: -time.Second}, "checkpoint-every"},
		{"any agent approves", Config{Database: "x.db", ContactApproval: "agent"}, ""},
		{"an unknown approver", Config{Database: "x.db", ContactApproval: "nobody"}, "contact-approval"},
		{"a proposal lifetime", Config{Database: "x.db", ChangeLifetime: 72 * time.Hour, DeskRenewals: 1000}, ""},
		{"a proposal lifetime too short", Config{Database: "x.db", ChangeLifetime: 59 * time.Minute}, "change-lifetime"},
		{"a proposal lifetime too long", Config{Database: "x.db", ChangeLifetime: 721 * time.Hour}, "change-lifetime"},
		{"a negative proposal lifetime", Config{Database: "x.db", ChangeLifetime: -time.Hour}, "change-lifetime"},
		{"desk renewals negative", Config{Database: "x.db", DeskRenewals: -1}, "desk-renewals"},
		{"desk renewals too many", Config{Database: "x.db", DeskRenewals: 1001}, "desk-renewals"},
		{"labels", Config{Database: "x.db", MailLabel: map[string]string{"fr": "Élections consulaires 2026", "en": "Consular elections 2026"},
			MailSignature: map[string]string{"en": "Consulate General of France"}}, ""},
		{"a label in German", Config{Database: "x.db", MailLabel: map[string]string{"de": "Konsularwahl"}}, "mail-label-de"},
		{"a label on two lines", Config{Database: "x.db", MailLabel: map[string]string{"en": "a\nBcc: x@example.org"}}, "mail-label-en"},
		{"a signature too long", Config{Database: "x.db", MailSignature: map[string]string{"fr": strings.Repeat("x", 121)}}, "mail-signature-fr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var ce *ConfigError
			switch {
			case tc.setting == "" && err != nil:
				t.Errorf("Validate = %v", err)
			case tc.setting != "" && (!errors.As(err, &ce) || ce.Setting != tc.setting):
				t.Errorf("Validate = %v, want an error naming --%s", err, tc.setting)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the database password: %v", err)
			}
		})
	}
}

// TestOpenDoesNotCreateUnasked: without Create, a mistyped path is an
// error and nothing is made there.
func TestOpenDoesNotCreateUnasked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "typo.db")
	_, err := Open(context.Background(), Config{Database: path})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Setting != "db" {
		t.Fatalf("Open of a missing database = %v, want a --db error", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("Open without Create left %v behind", entries)
	}
	// A database without its key: the key is not remade (every stored hash
	// would silently stop matching).
	b, err := Open(context.Background(), Config{Database: path, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	os.Remove(path + ".key")
	_, err = Open(context.Background(), Config{Database: path})
	if !errors.As(err, &ce) || ce.Setting != "key-file" {
		t.Fatalf("Open without the key = %v, want a --key-file error", err)
	}
	if _, err := os.Stat(path + ".key"); err == nil {
		t.Fatal("Open without Create made a new key")
	}
}

func TestOpenCreatesAndReopens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "folder")
	path := filepath.Join(dir, "portal.db")
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: path, Create: true, Demo: true, From: "MEAE <noreply@vote.example>"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Service.Operator.Sender() != "MEAE <noreply@vote.example>" {
		t.Errorf("sender %q", b.Service.Operator.Sender())
	}
	if _, err := b.Service.Portal.Login(ctx, service.DemoRoll[0].Identifier, service.DemoRoll[0].Password); err != nil {
		t.Fatalf("the demonstration roll is not there: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + ".key"} {
		st, err := os.Stat(f)
		if err != nil || testenv.FileModes && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
	}
	if st, err := os.Stat(dir); err != nil || testenv.FileModes && st.Mode().Perm() != 0o700 {
		t.Errorf("folder: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	// Reopened with the key it made: the credentials still match.
	b, err = Open(ctx, Config{Database: path, KeyFile: path + ".key"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Service.Portal.Login(ctx, service.DemoRoll[1].Identifier, service.DemoRoll[1].Password); err != nil {
		t.Fatalf("login after reopening: %v", err)
	}
}

// checkpoints returns how many audit checkpoints the database at path
// holds.
func checkpoints(t *testing.T, path string) int {
	t.Helper()
	b, err := Open(context.Background(), Config{Database: path})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, n := servicetest.UnsignedRows(t, b.Store)
	return n
}

// TestStartSignsCheckpoints: a started back end signs the audit log at
// once, periodically, and once more at Close; one that was not started
// signs at Close what it wrote (the demo roll's seeding here), and
// nothing when it wrote nothing (audit verify).
func TestStartSignsCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: path, Create: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if n := checkpoints(t, path); n != 1 {
		t.Fatalf("%d checkpoints after seeding without Start, want 1", n)
	}
	b, err = Open(ctx, Config{Database: path})
	if err != nil {
		t.Fatal(err)
	}
	if problems, _, err := b.Service.Operator.VerifyAuditLog(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	b.Close()
	if n := checkpoints(t, path); n != 1 {
		t.Fatalf("%d checkpoints after a verification, want still 1", n)
	}

	b, err = Open(ctx, Config{Database: path, CheckpointEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	b.Start() // a second Start changes nothing
	// Audit rows written while it runs are covered by a later checkpoint.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		b.Service.Portal.Login(ctx, service.DemoRoll[0].Identifier, "wrong password")
		problems, _, err := b.Service.Operator.VerifyAuditLog(ctx)
		if err != nil || len(problems) > 0 {
			t.Fatalf("verify: %v %v", problems, err)
		}
		if _, n := servicetest.UnsignedRows(t, b.Store); n >= 3 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d checkpoints after 10 s at one per 20 ms", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Service.Portal.Login(ctx, service.DemoRoll[0].Identifier, "wrong again")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = Open(ctx, Config{Database: path})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := servicetest.UnsignedRows(t, b.Store); n != 0 {
		t.Errorf("%d audit rows not signed after Close", n)
	}
}

// TestStartDelivers: with a gateway configured, Start runs the delivery
// worker, which sends the queued SMS to it.
func TestStartDelivers(t *testing.T) {
	var mu sync.Mutex
	var got []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Text string }
		if r.Header.Get("Authorization") != "Bearer gw-token" || json.NewDecoder(r.Body).Decode(&m) != nil {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, m.To)
		mu.Unlock()
	}))
	defer gw.Close()

	path := filepath.Join(t.TempDir(), "portal.db")
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: path, Create: true, SMSGateway: gw.URL, SMSToken: "gw-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var roll strings.Builder
	if _, err := servicetest.WriteRoll(&roll, 3, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.ImportRoll(ctx, "test", strings.NewReader(roll.String()), nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.Service.Operator.SendFirstCredentials(ctx, "test", "mai", nil); err != nil || rep.Sent != 3 {
		t.Fatalf("campaign: %+v, %v", rep, err)
	}
	b.Start()
	// Done when the worker has recorded every SMS as sent: the gateway
	// seeing them comes a moment before that.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms := servicetest.Outbox(t, b.Service, b.Store, 10)
		sent := 0
		for _, m := range ms {
			if m.Channel == service.ChannelSMS && m.State == "sent" {
				sent++
			}
		}
		if sent == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d SMS recorded as sent after 10 s, want 3", sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if len(got) != 3 {
		t.Errorf("the gateway got %d SMS, want 3", len(got))
	}
	mu.Unlock()
	// The e-mails wait: no relay is configured.
	ms := servicetest.Outbox(t, b.Service, b.Store, 10)
	for _, m := range ms {
		if want := map[service.Channel]string{service.ChannelSMS: "sent", service.ChannelEmail: "pending"}[m.Channel]; m.State != want {
			t.Errorf("%s message %d is %s, want %s", m.Channel, m.ID, m.State, want)
		}
	}
}

// TestContactApprovalSetting: with --contact-approval agent, an agent
// approves another's change of contact details; by default only an admin.
func TestContactApprovalSetting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		setting string
		want    portal.Code // of an approval by an agent
	}{{"", portal.CodeForbidden}, {"admin", portal.CodeForbidden}, {"agent", ""}} {
		b, err := Open(ctx, Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true, Demo: true, ContactApproval: tc.setting})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		tokens := map[string]string{}
		for _, name := range []string{"bob", "carl"} {
			if _, err := b.Service.Operator.AddAgent(ctx, name, portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
				t.Fatal(err)
			}
			s, err := b.Service.Office.AgentLogin(ctx, name, "correct horse battery", "")
			if err != nil {
				t.Fatal(err)
			}
			tokens[name] = s.Token
		}
		found, err := b.Service.Office.FindVoters(ctx, tokens["bob"], service.DemoRoll[0].NUMIC)
		if err != nil || len(found) != 1 {
			t.Fatalf("find: %v", err)
		}
		c, err := b.Service.Office.ProposeContactChange(ctx, tokens["bob"], portal.ContactChangeRequest{VoterID: found[0].ID,
			Mobile: "+33700000001", Document: portal.DocPassport, Reason: "au guichet"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Service.Office.ApproveContactChange(ctx, tokens["carl"], c.ID)
		if got := portal.ErrorCode(err); got != tc.want {
			t.Errorf("contact approval %q: an agent's approval gave %q, want %q", tc.setting, got, tc.want)
		}
	}
}

// TestDeskSettings: the proposal lifetime, the per-agent renewal limit and
// the letterhead by language reach the service.
func TestDeskSettings(t *testing.T) {
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true, Demo: true,
		ChangeLifetime: 2 * time.Hour, DeskRenewals: 2,
		MailLabel: map[string]string{"en": "Consular elections 2026"}, MailSignature: map[string]string{"en": "Consulate General of France"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Service.Operator.AddAgent(ctx, "bob", portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	s, err := b.Service.Office.AgentLogin(ctx, "bob", "correct horse battery", "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, v := range service.DemoRoll {
		found, err := b.Service.Office.FindVoters(ctx, s.Token, v.NUMIC)
		if err != nil || len(found) != 1 {
			t.Fatalf("find: %v", err)
		}
		ids = append(ids, found[0].ID)
	}
	before := time.Now()
	c, err := b.Service.Office.ProposeContactChange(ctx, s.Token, portal.ContactChangeRequest{VoterID: ids[0],
		Mobile: "+33700000001", Document: portal.DocPassport, Reason: "au guichet"})
	if err != nil {
		t.Fatal(err)
	}
	if life := c.ExpiresAt.Sub(before); life < 2*time.Hour-time.Minute || life > 2*time.Hour+time.Minute {
		t.Errorf("a proposal lives %v, want the 2h set", life)
	}
	// Two renewals for two voters, then the agent's limit: the third
	// voter's own limit is untouched.
	for i, want := range []portal.Code{"", "", portal.CodeRateLimited} {
		_, err := b.Service.Office.StartRenewal(ctx, s.Token, ids[i], portal.RenewIdentifier, "au téléphone")
		if got := portal.ErrorCode(err); got != want {
			t.Errorf("renewal %d: %q, want %q", i+1, got, want)
		}
	}
	// John reads English: the label and signature set for English.
	msgs, err := b.Service.Portal.Messages(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, m := range msgs {
		if m.To != service.DemoRoll[1].Email {
			continue
		}
		seen++
		if !strings.HasPrefix(m.Subject, "Consular elections 2026 – ") || !strings.Contains(m.Text, "Consulate General of France") {
			t.Errorf("English message: %q\n%s", m.Subject, m.Text)
		}
	}
	if seen == 0 {
		t.Error("no message to John")
	}

	// Restarted with another lifetime: the pending proposal keeps its
	// expiry; a new one gets the new lifetime.
	b.Close()
	b, err = Open(ctx, Config{Database: b.cfg.Database, ChangeLifetime: 5 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err = b.Service.Office.AgentLogin(ctx, "bob", "correct horse battery", "")
	if err != nil {
		t.Fatal(err)
	}
	pending, err := b.Service.Office.PendingContactChanges(ctx, s.Token)
	if err != nil || len(pending) != 1 || !pending[0].ExpiresAt.Equal(c.ExpiresAt) {
		t.Errorf("after a restart with another lifetime: %+v, %v; want the expiry %v kept", pending, err, c.ExpiresAt)
	}
	before = time.Now()
	c2, err := b.Service.Office.ProposeContactChange(ctx, s.Token, portal.ContactChangeRequest{VoterID: ids[2],
		Mobile: "+33700000002", Document: portal.DocPassport, Reason: "au guichet"})
	if err != nil {
		t.Fatal(err)
	}
	if life := c2.ExpiresAt.Sub(before); life < 5*time.Hour-time.Minute || life > 5*time.Hour+time.Minute {
		t.Errorf("a new proposal lives %v, want the 5h set", life)
	}
}

// TestStartPurgesRateEvents: a started back end purges, periodically, the
// rate events of keys never counted again once no window counts them.
func TestStartPurgesRateEvents(t *testing.T) {
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true, CheckpointEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	old, recent := []byte("numic-seen-once"), []byte("numic-seen-now")
	if err := b.Store.Update(ctx, func(tx service.Tx) error {
		if err := tx.AddRateEvent(old, time.Now().Add(-2*time.Hour)); err != nil {
			return err
		}
		return tx.AddRateEvent(recent, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	events := func(key []byte) int {
		var n int
		err := b.Store.Update(ctx, func(tx service.Tx) error { // RateEvents writes: it forgets older events
			ts, err := tx.RateEvents(time.Now().Add(-24*time.Hour), key)
			if err == nil {
				n = len(ts[0])
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	b.Start()
	for deadline := time.Now().Add(10 * time.Second); events(old) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an old rate event still there after 10 s of purges every 20 ms")
		}
	}
	if events(recent) != 1 {
		t.Error("the purge deleted an event inside the window")
	}
}
