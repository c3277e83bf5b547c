package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	netmail "net/mail"

	"github.com/jackc/pgx/v5"

	"consulvote/app/backend"
	"consulvote/app/keyfile"
	"consulvote/app/mail"
	"consulvote/app/outbox/smtptest"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
	"consulvote/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if daemon.dir != "" {
		os.RemoveAll(daemon.dir)
	}
	os.Exit(code)
}

// deployment is the central service as an operator sets it up: one
// PostgreSQL database, one key file shared by the instances, and the
// consulvoted binary. The test keeps a service of its own on the same
// database and key ("instance 0"): it draws security codes whose digits
// the test knows (servicetest.Sevens), as a voter reads them off the
// picture, and it reads the outbox. A code it draws is checked by
// whichever instance gets the answer: they share the database.
type deployment struct {
	t        *testing.T
	url, key string
	bin      string
	db       *sqlstore.DB
	svc      *service.Service
}

// newDeployment makes the database with the demonstration roll, its key
// file, and instance 0.
func newDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{t: t, url: pgtest.Database(t), key: filepath.Join(t.TempDir(), "portal.key"), bin: build(t)}
	ctx := context.Background()
	// The first start makes the schema and the key, and seeds the demo roll.
	b := openBackend(t, d.url, d.key, true)
	b.Close()
	db, err := sqlstore.Open(ctx, d.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := keyfile.LoadOrCreate(d.key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := service.DefaultConfig()
	cfg.Secret, cfg.PublicURL = key, "https://vote.example"
	svc, err := service.New(db, cfg, service.Options{CodeRand: servicetest.Sevens{}})
	if err != nil {
		t.Fatal(err)
	}
	d.db, d.svc = db, svc
	return d
}

// openBackend opens the deployment as the commands do; create makes the
// key and seeds the demonstration roll.
func openBackend(t *testing.T, url, key string, create bool) *backend.Backend {
	t.Helper()
	b, err := backend.Open(context.Background(), backend.Config{Database: url, KeyFile: key, Create: create, Demo: create})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// code draws a security code on instance 0 and returns its id; its
// answer is servicetest.Code.
func (d *deployment) code() string {
	d.t.Helper()
	c, err := d.svc.Portal.NewSecurityCode(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return c.ID
}

// codes draws n codes.
func (d *deployment) codes(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = d.code()
	}
	return ids
}

// instance is one `consulvoted serve` process on the deployment.
type instance struct {
	cmd    *exec.Cmd
	addr   string
	client *remote.Client
	mu     sync.Mutex
	logs   strings.Builder
}

// serve starts an instance with the given extra flags and waits until it
// listens.
func (d *deployment) serve(extra ...string) *instance {
	d.t.Helper()
	args := append([]string{"serve", "--db", d.url, "--key-file", d.key, "--listen", "127.0.0.1:0", "--insecure-loopback",
		"--public-url", "https://vote.example", "--per-client", "-1"}, extra...)
	in := &instance{cmd: exec.Command(d.bin, args...)}
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() {
		in.cmd.Process.Kill()
		in.cmd.Wait()
		if d.t.Failed() {
			d.t.Logf("instance %d's log:\n%s", in.cmd.Process.Pid, in.log())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			in.mu.Lock()
			in.logs.WriteString(line + "\n")
			in.mu.Unlock()
			if m := servingRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		in.addr = a
		in.client, err = remote.New("http://"+a, remote.Options{Timeout: 60 * time.Second})
		if err != nil {
			d.t.Fatal(err)
		}
	case <-time.After(90 * time.Second):
		d.t.Fatalf("the instance did not start in 90 s:\n%s", in.log())
	}
	return in
}

var servingRE = regexp.MustCompile(`"msg":"serving".*"addr":"([^"]+)"`)

func (in *instance) log() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.logs.String()
}

// spread runs fn(i, instance) n times at once, the calls shared between
// the instances in turn, and returns each call's error.
func spread(n int, ins []*instance, fn func(i int, in *instance) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i, ins[i%len(ins)])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts the errors by portal code ("" for success).
func tally(t *testing.T, errs []error) map[portal.Code]int {
	t.Helper()
	n := map[portal.Code]int{}
	for _, err := range errs {
		switch c := portal.ErrorCode(err); {
		case err == nil:
			n[""]++
		case c == "":
			t.Errorf("not an answer of the portal: %v", err)
		default:
			n[c]++
		}
	}
	return n
}

// TestTwoInstancesOneDatabase: two consulvoted serve processes on one
// PostgreSQL database keep every rule that a single one keeps, whichever
// instance each request reaches; the audit log they write together
// verifies with the headless command.
func TestTwoInstancesOneDatabase(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	ins := []*instance{d.serve(), d.serve()}
	ctx := context.Background()
	marie, john := service.DemoRoll[0], service.DemoRoll[1]

	t.Run("LinkConfirmedOnce", func(t *testing.T) {
		if err := ins[0].client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
			NUMIC: marie.NUMIC, Email: marie.Email, CodeID: d.code(), Code: servicetest.Code}); err != nil {
			t.Fatal(err)
		}
		link := d.mailed(t, marie.NUMIC, renewalLinkRE)
		codes := d.codes(32)
		var mu sync.Mutex
		var identifiers []string
		errs := spread(32, ins, func(i int, in *instance) error {
			r, err := in.client.ConfirmIdentifierRenewal(ctx, portal.ConfirmRequest{Link: link, Password: marie.Password,
				CodeID: codes[i], Code: servicetest.Code})
			if err == nil {
				mu.Lock()
				identifiers = append(identifiers, r.Identifier)
				mu.Unlock()
			}
			return err
		})
		n := tally(t, errs)
		if n[""] != 1 || n[""]+n[portal.CodeLinkUsed]+n[portal.CodeUnavailable] != 32 {
			t.Fatalf("32 confirmations of one link over two instances: %v; want exactly one success, the others told the link is used (or to try again)", n)
		}
		// The one new identifier works on both instances.
		for _, in := range ins {
			if _, err := in.client.Login(ctx, identifiers[0], marie.Password); err != nil {
				t.Errorf("login with the new identifier: %v", err)
			}
		}
		if k := d.audited(t, "identifier.renewed", marie.NUMIC); k != 1 {
			t.Errorf("identifier renewed %d times", k)
		}
	})

	t.Run("GuessesShareOneLock", func(t *testing.T) {
		// Renewal requests for the same voter run among the guesses: they
		// write the voter's row and audit rows too.
		codes := d.codes(48)
		errs := spread(48, ins, func(i int, in *instance) error {
			if i%6 == 5 {
				return in.client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
					NUMIC: john.NUMIC, Email: john.Email, CodeID: codes[i], Code: servicetest.Code})
			}
			_, err := in.client.Login(ctx, john.Identifier, fmt.Sprintf("wrong %d", i))
			return err
		})
		var logins []error
		for i, err := range errs {
			if i%6 != 5 {
				logins = append(logins, err)
			} else if err != nil {
				t.Errorf("renewal request: %v", err)
			}
		}
		n := tally(t, logins)
		if n[""] != 0 || n[portal.CodeBadLogin]+n[portal.CodeLocked] == 0 || n[portal.CodeBadLogin] > 5 {
			t.Errorf("40 wrong passwords over two instances: %v; want at most 5 checked", n)
		}
		// A password is checked only after its attempt is reserved, and each
		// check that fails is audited: the audit counts the evaluations.
		if k := d.audited(t, "login.failed", john.NUMIC); k > 5 || k == 0 {
			t.Errorf("%d passwords evaluated for one voter in one lock window, want at most 5", k)
		}
		for _, in := range ins {
			_, err := in.client.Login(ctx, john.Identifier, john.Password)
			if portal.ErrorCode(err) != portal.CodeLocked {
				t.Errorf("the right password after the lock: %v, want locked on every instance", err)
			}
		}
	})

	t.Run("UnmatchedLimitShared", func(t *testing.T) {
		// A NUMIC that is not on the roll spends its source's limit, not a
		// NUMIC's: the limit has no row to lock, and must hold all the same.
		codes := d.codes(16)
		served0, limited0 := d.actions(t, "identifier.request.no_match"), d.actions(t, "identifier.request.rate_limited")
		errs := spread(16, ins, func(i int, in *instance) error {
			return in.client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
				NUMIC: "99999999", Email: "qui@example.org", CodeID: codes[i], Code: servicetest.Code})
		})
		// Every request is answered alike ("sent", whatever matched): the
		// audit log tells which were served and which were limited.
		if n := tally(t, errs); n[""] != 16 {
			t.Errorf("answers %v, want 16 neutral ones", n)
		}
		served := d.actions(t, "identifier.request.no_match") - served0
		limited := d.actions(t, "identifier.request.rate_limited") - limited0
		if want := service.DefaultConfig().SourceRequests; served != want || limited != 16-want {
			t.Errorf("16 requests from one source over two instances: %d served, %d limited; want %d served", served, limited, want)
		}
	})

	t.Run("StrangerCannotSpendVoterQuota", func(t *testing.T) {
		// 50 requests at once with a voter's NUMIC and another's data, over
		// both instances, then the voter's own: it goes out.
		vs := d.voters(t, 2)
		codes := d.codes(100)
		errs := spread(100, ins, func(i int, in *instance) error {
			if i%2 == 0 {
				return in.client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
					NUMIC: vs[0].NUMIC, Email: fmt.Sprintf("guess%d@example.org", i), CodeID: codes[i], Code: servicetest.Code})
			}
			return in.client.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{
				NUMIC: vs[1].NUMIC, Identifier: fmt.Sprintf("guess%07dxy", i), CodeID: codes[i], Code: servicetest.Code})
		})
		if n := tally(t, errs); n[""] != 100 {
			t.Errorf("answers %v, want 100 neutral ones", n)
		}
		if err := ins[0].client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
			NUMIC: vs[0].NUMIC, Email: vs[0].Email, CodeID: d.code(), Code: servicetest.Code}); err != nil {
			t.Fatal(err)
		}
		if err := ins[1].client.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{
			NUMIC: vs[1].NUMIC, Identifier: vs[1].identifier, CodeID: d.code(), Code: servicetest.Code}); err != nil {
			t.Fatal(err)
		}
		if links, _ := d.renewals(t, vs[0].NUMIC); links != 1 {
			t.Errorf("after 50 strangers' requests, the voter's own identifier request: %d links, want 1", links)
		}
		if _, renewed := d.renewals(t, vs[1].NUMIC); !renewed {
			t.Error("after 50 strangers' requests, the voter's own password request: not renewed")
		}
	})

	t.Run("AgentGuardAcrossInstances", func(t *testing.T) {
		// Behind a proxy both instances trust, 200 addresses at once guess
		// an agent's password, then 50 guess an admin's one-time code with
		// the right password: the streak and the codes' count are the
		// database's, whichever instance each guess reaches.
		proxied := []*instance{d.serve("--trusted-proxy", "127.0.0.1/32"), d.serve("--trusted-proxy", "127.0.0.1/32")}
		if _, err := d.svc.Operator.AddAgent(ctx, "guarded", "agent", "correct horse battery", false, portal.Scope{Central: true}); err != nil {
			t.Fatal(err)
		}
		enr, err := d.svc.Operator.AddAgent(ctx, "guardedadmin", "admin", "correct horse battery", true, portal.Scope{Central: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.svc.Operator.SetAgentEmail(ctx, "cli", "guardedadmin", "guardedadmin@consulat.example"); err != nil {
			t.Fatal(err)
		}
		login := func(in *instance, from, name, code string) int {
			body := fmt.Sprintf(`{"name":%q,"password":"correct horse battery","code":%q}`, name, code)
			if code == "wrong" {
				body = fmt.Sprintf(`{"name":%q,"password":"mauvais mot de passe"}`, name)
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+in.addr+"/api/v1/agent/sessions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-For", from)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return 0
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		failed := func(name, why string) int {
			var es []service.AuditEntry
			if err := d.db.View(ctx, func(tx service.Tx) (err error) {
				es, err = tx.AuditSearch("", "agent.login.failed", 0, 10_000)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range es {
				if strings.Contains(e.Detail, `"name":"`+name+`"`) && strings.Contains(e.Detail, `"why":"`+why+`"`) {
					n++
				}
			}
			return n
		}
		spread(200, proxied, func(i int, in *instance) error {
			login(in, fmt.Sprintf("198.51.%d.%d", 100+i/100, i%100), "guarded", "wrong")
			return nil
		})
		// 20 in a row, then one at a time after 1 s, 2 s…: a slow machine
		// may fit one or two more while the others wait.
		if n := failed("guarded", ""); n < 20 || n > 22 {
			t.Errorf("200 wrong passwords at once from 200 addresses over two instances: %d checked, want 20 (to 22)", n)
		}
		now := time.Now()
		wrong := "000000"
		for i := 0; slices.Contains([]string{servicetest.TOTP(t, enr.Secret, now.Add(-30*time.Second)),
			servicetest.TOTP(t, enr.Secret, now), servicetest.TOTP(t, enr.Secret, now.Add(30*time.Second))}, wrong); i++ {
			wrong = fmt.Sprintf("%06d", i)
		}
		spread(50, proxied, func(i int, in *instance) error {
			login(in, fmt.Sprintf("203.0.113.%d", i), "guardedadmin", wrong)
			return nil
		})
		if n := failed("guardedadmin", "second_factor"); n != 10 {
			t.Errorf("50 wrong codes with the right password at once over two instances: %d checked, want 10", n)
		}
		// One alert for the codes, one for the streak of 20, to the agent.
		ms := servicetest.Outbox(t, d.svc, d.db, 1000)
		alerts := 0
		for _, m := range ms {
			if m.Kind == "agent.alert" && m.To == "guardedadmin@consulat.example" {
				alerts++
			}
		}
		if alerts != 2 {
			t.Errorf("%d alerts e-mailed to the admin, want 2 (codes locked, logins slowed)", alerts)
		}
		time.Sleep(2 * time.Second) // past the streak's wait
		if got := login(proxied[0], "192.0.2.1", "guardedadmin", servicetest.TOTP(t, enr.Secret, time.Now())); got == http.StatusCreated {
			t.Errorf("the right code after 10 wrong ones: %d, want it refused", got)
		}
	})

	t.Run("CodeUsedOnce", func(t *testing.T) {
		// One security code, 32 requests at once over both instances, each
		// for another voter: the code is spent once, in the request's own
		// transaction; drawing it wrote nothing.
		code := d.code()
		errs := spread(32, ins, func(i int, in *instance) error {
			v := service.DemoRoll[i%len(service.DemoRoll)]
			return in.client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
				NUMIC: v.NUMIC, Email: fmt.Sprintf("autre%d@example.org", i), CodeID: code, Code: servicetest.Code})
		})
		if n := tally(t, errs); n[""] != 1 || n[portal.CodeSecurityCodeExpired] != 31 {
			t.Fatalf("32 requests with one code over two instances: %v; want one served, 31 told the code expired", n)
		}
	})

	t.Run("NotBothRaced", func(t *testing.T) {
		// A password request hashes its new password before its
		// transaction: the identifier requests start later and later, voter
		// after voter, to meet that transaction wherever it falls.
		voters := d.voters(t, 10)
		for k, v := range voters {
			codes := d.codes(6)
			errs := spread(6, ins, func(i int, in *instance) error {
				if i%2 == 0 {
					time.Sleep(time.Duration(k*20+i*3) * time.Millisecond)
					return in.client.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
						NUMIC: v.NUMIC, Email: v.Email, CodeID: codes[i], Code: servicetest.Code})
				}
				return in.client.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{
					Identifier: v.identifier, NUMIC: v.NUMIC, CodeID: codes[i], Code: servicetest.Code})
			})
			n := tally(t, errs)
			links, renewed := d.renewals(t, v.NUMIC)
			if links > 0 && renewed {
				t.Errorf("voter %s: an identifier link pending and a password renewed at once (answers %v)", v.NUMIC, n)
			}
			if links == 0 && !renewed {
				t.Errorf("voter %s: no link and no password renewed (answers %v); want one of them", v.NUMIC, n)
			}
		}
	})

	// Every transaction takes its locks in one order (rate limits, then
	// the voter's row and its links, then the audit row): PostgreSQL
	// found no deadlock. (Its counters are written when the sessions end.)
	for _, in := range ins {
		in.cmd.Process.Signal(syscall.SIGTERM)
		in.cmd.Wait()
	}
	if n := deadlocks(t, d.url); n != 0 {
		t.Errorf("PostgreSQL broke %d deadlocks between the instances' transactions", n)
	}

	// The log, written by both instances, verified by the
	// headless command on the URL.
	code, out, errs := runCmd("", "audit", "verify", "--db", d.url, "--key-file", d.key)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errs)
	}
}

// deadlocks returns how many deadlocks PostgreSQL detected in the
// database, once the statistics of the sessions that ended are in.
func deadlocks(t *testing.T, url string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	for range 20 {
		if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

var (
	renewalLinkRE = regexp.MustCompile(`https://vote\.example/renouvellement\?jeton=[A-Za-z0-9_-]{43}`)
	identifierRE  = regexp.MustCompile(`identifiant de connexion au portail de vote par Internet : (\S+)`)
)

// mailed returns what re finds in the newest e-mail to the voter, opened
// as the recipient reads it.
func (d *deployment) mailed(t *testing.T, numic string, re *regexp.Regexp) string {
	t.Helper()
	var found string
	err := d.db.View(context.Background(), func(tx service.Tx) error {
		v, err := tx.VoterByNUMIC(numic)
		if err != nil {
			return err
		}
		ms, err := tx.Messages(service.MessageFilter{VoterID: v.ID, Limit: 20})
		for _, m := range ms {
			if m.Channel != service.ChannelEmail || found != "" {
				continue
			}
			raw, err := d.svc.Operator.OpenMessage(m)
			if err != nil {
				return err
			}
			text, _, err := mail.Parts(raw)
			if err != nil {
				return err
			}
			if s := re.FindStringSubmatch(text); s != nil {
				found = s[len(s)-1]
			}
		}
		return err
	})
	if err != nil || found == "" {
		t.Fatalf("nothing matching %v mailed to %s: %v", re, numic, err)
	}
	return found
}

// audited counts the audit rows of that action about the voter.
func (d *deployment) audited(t *testing.T, action, numic string) int {
	t.Helper()
	n := 0
	err := d.db.View(context.Background(), func(tx service.Tx) error {
		v, err := tx.VoterByNUMIC(numic)
		if err != nil {
			return err
		}
		es, err := tx.AuditSearch("", "", v.ID, 1000)
		for _, e := range es {
			if e.Action == action {
				n++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// actions counts the audit rows whose action contains action.
func (d *deployment) actions(t *testing.T, action string) int {
	t.Helper()
	var es []service.AuditEntry
	err := d.db.View(context.Background(), func(tx service.Tx) (err error) {
		es, err = tx.AuditSearch("", action, 0, 10_000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// renewals tells whether the voter has a pending identifier link and
// whether its password was renewed.
func (d *deployment) renewals(t *testing.T, numic string) (links int, passwordRenewed bool) {
	t.Helper()
	err := d.db.View(context.Background(), func(tx service.Tx) error {
		v, err := tx.VoterByNUMIC(numic)
		if err != nil {
			return err
		}
		ls, err := tx.PendingLinks(v.ID, time.Now())
		for _, l := range ls {
			if l.Kind == service.LinkIdentifier {
				links++
			}
		}
		passwordRenewed = !v.PasswordRenewedAt.IsZero()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return links, passwordRenewed
}

// rollVoter is a voter of an imported roll, with the identifier its
// first-credentials e-mail gave it.
type rollVoter struct {
	service.Voter
	identifier string
}

// voters imports a roll of n voters with the headless command on the
// URL, gives them their first credentials, and reads each one's
// identifier in its e-mail.
func (d *deployment) voters(t *testing.T, n int) []rollVoter {
	t.Helper()
	roll := filepath.Join(t.TempDir(), "roll.csv")
	f, err := os.Create(roll)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := servicetest.WriteRoll(f, n, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if code, out, errs := runCmd("", "roll", "import", "--db", d.url, "--key-file", d.key, roll); code != 0 {
		t.Fatalf("roll import: exit %d\n%s%s", code, out, errs)
	}
	campaign := fmt.Sprintf("c%d", time.Now().UnixNano())
	if code, out, errs := runCmd("", "credentials", "send", "--db", d.url, "--key-file", d.key, "--campaign", campaign,
		"--from", "MEAE <noreply@vote.example>"); code != 0 {
		t.Fatalf("credentials send: exit %d\n%s%s", code, out, errs)
	}
	vs := make([]rollVoter, n)
	for i := range vs {
		numic := fmt.Sprintf("%08d", 50_000_000+i) // servicetest.WriteRoll's
		err := d.db.View(context.Background(), func(tx service.Tx) (err error) { vs[i].Voter, err = tx.VoterByNUMIC(numic); return err })
		if err != nil {
			t.Fatal(err)
		}
		vs[i].identifier = d.mailed(t, numic, identifierRE)
	}
	return vs
}

// relay is a real SMTP server on 127.0.0.1 for one instance: the test
// knows who sent what. Each delivery takes 25 ms, so that the two
// workers have work at the same time. Held, a delivery waits in the
// middle (before the message is sent) until the test ends; paused, until
// the test resumes the relay.
type relay struct {
	*smtptest.Server
	hold, pause atomic.Bool
	holding     chan struct{}
	resume      chan struct{}
}

func newRelay(t *testing.T) *relay {
	r := &relay{Server: smtptest.Start(t), holding: make(chan struct{}, 64), resume: make(chan struct{})}
	r.Stop()
	release := make(chan struct{})
	r.Plain = true // no STARTTLS to offer: the instance is told --smtp-tls none
	r.Hold = func() {
		switch {
		case r.hold.Load():
			r.holding <- struct{}{}
			<-release
			return
		case r.pause.Load():
			select {
			case <-r.resume:
			case <-release:
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	r.Start()
	t.Cleanup(func() { close(release) }) // before the server stops
	return r
}

func (r *relay) flags() []string {
	return []string{"--smtp", fmt.Sprintf("smtp://%s:%s@%s", r.User, r.Password(), r.Addr), "--smtp-tls", "none",
		"--from", "MEAE <noreply@vote.example>", "--outbox-lease", "3s"}
}

// messageIDs returns how many times each Message-Id reached the relays.
func messageIDs(t *testing.T, rs ...*relay) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range rs {
		for _, m := range r.Messages() {
			msg, err := netmail.ReadMessage(bytes.NewReader(m.Raw))
			if err != nil {
				t.Fatal(err)
			}
			ids[msg.Header.Get("Message-Id")]++
		}
	}
	return ids
}

// rollFiles writes n voters (servicetest.WriteRoll) as one roll file per
// part, parts[i] lines each.
func rollFiles(t *testing.T, parts ...int) []string {
	t.Helper()
	var all bytes.Buffer
	n := 0
	for _, p := range parts {
		n += p
	}
	if _, err := servicetest.WriteRoll(&all, n, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(all.String(), "\n"), "\n")
	header, lines := lines[0], lines[1:]
	var files []string
	for i, p := range parts {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("roll-%d.csv", i))
		if err := os.WriteFile(path, []byte(header+strings.Join(lines[:p], "")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		files, lines = append(files, path), lines[p:]
	}
	return files
}

// campaign imports a roll file and sends its voters their first
// credentials with the headless commands on the URL: an e-mail each.
func (d *deployment) campaign(t *testing.T, roll, name string) {
	t.Helper()
	if code, out, errs := runCmd("", "roll", "import", "--db", d.url, "--key-file", d.key, roll); code != 0 {
		t.Fatalf("roll import: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCmd("", "credentials", "send", "--db", d.url, "--key-file", d.key, "--campaign", name,
		"--from", "MEAE <noreply@vote.example>"); code != 0 {
		t.Fatalf("credentials send: exit %d\n%s%s", code, out, errs)
	}
}

// waitFor polls cond for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutboxAcrossInstances: the delivery workers of two instances send
// every queued e-mail exactly once between them; an instance killed
// (SIGKILL) in the middle of a delivery loses nothing: what it had
// claimed goes out from the other once the claim's lease has run out.
func TestOutboxAcrossInstances(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r1, r2 := newRelay(t), newRelay(t)
	in1 := d.serve(r1.flags()...)
	d.serve(r2.flags()...)
	rolls := rollFiles(t, 60, 30)

	d.campaign(t, rolls[0], "premier")
	waitFor(t, 120*time.Second, "the first 60 e-mails did not all arrive", func() bool { return len(messageIDs(t, r1, r2)) == 60 })
	for id, k := range messageIDs(t, r1, r2) {
		if k != 1 {
			t.Errorf("message %s delivered %d times", id, k)
		}
	}
	if len(r1.Messages()) == 0 || len(r2.Messages()) == 0 {
		t.Errorf("one instance delivered everything (%d and %d): the test did not run both workers at once",
			len(r1.Messages()), len(r2.Messages()))
	}

	// The first instance's relay now holds its next delivery mid-way; the
	// instance is killed there. The second's waits until then, so that
	// the first surely has messages claimed.
	r1.hold.Store(true)
	r2.pause.Store(true)
	before := len(r1.Messages())
	d.campaign(t, rolls[1], "second")
	select {
	case <-r1.holding:
	case <-time.After(90 * time.Second):
		t.Fatal("the first instance started no delivery")
	}
	if err := in1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	in1.cmd.Wait()
	close(r2.resume)
	waitFor(t, 120*time.Second, "the e-mails claimed by the killed instance did not arrive", func() bool {
		return len(messageIDs(t, r1, r2)) == 90
	})
	for id, k := range messageIDs(t, r1, r2) {
		if k != 1 {
			t.Errorf("message %s delivered %d times", id, k)
		}
	}
	if n := len(r1.Messages()); n != before {
		t.Errorf("the killed instance's relay got %d more messages", n-before)
	}
	// Marked sent too (the mark follows the relay's answer).
	waitFor(t, 10*time.Second, "not every e-mail is marked sent", func() bool {
		sent := 0
		d.db.View(context.Background(), func(tx service.Tx) error {
			ms, err := tx.Messages(service.MessageFilter{Limit: 1000})
			for _, m := range ms {
				if m.Channel == service.ChannelEmail && m.State == "sent" {
					sent++
				}
			}
			return err
		})
		return sent == 90
	})
	if code, out, errs := runCmd("", "audit", "verify", "--db", d.url, "--key-file", d.key); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errs)
	}
}

// TestPostgresDumpRestore: docs/operations.md's backup of the central service
// works: pg_dump of the live database, pg_restore into an empty one, then
// audit verify and a login there with the same key file.
func TestPostgresDumpRestore(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	ctx := context.Background()
	marie := service.DemoRoll[0]
	if _, err := d.svc.Portal.Login(ctx, marie.Identifier, "not her password"); portal.ErrorCode(err) != portal.CodeBadLogin {
		t.Fatalf("wrong password: %v", err)
	}
	dump := filepath.Join(t.TempDir(), "portal.dump")
	if out, err := exec.Command(pgtest.Program(t, "pg_dump"), "--format=custom", "--file", dump, d.url).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	restored := pgtest.Database(t)
	if out, err := exec.Command(pgtest.Program(t, "pg_restore"), "--no-owner", "--dbname", restored, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	if code, out, errs := runCmd("", "audit", "verify", "--db", restored, "--key-file", d.key); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify of the restored database: exit %d\n%s%s", code, out, errs)
	}
	b := openBackend(t, restored, d.key, false)
	defer b.Close()
	if _, err := b.Service.Portal.Login(ctx, marie.Identifier, marie.Password); err != nil {
		t.Fatalf("login on the restored database: %v", err)
	}
}
