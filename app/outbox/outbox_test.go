package outbox

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "consulvote/app/mail"
	"consulvote/app/outbox/smtptest"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/server"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

var marie = service.DemoRoll[0]

// worker returns a worker on e's store that sends to d.
func worker(t *testing.T, e *servicetest.Env, d *smtptest.Server) *Worker {
	t.Helper()
	return &Worker{
		Store: e.DB, Open: e.Service.Operator.OpenMessage, Clock: e.Clock,
		From: "MEAE Administration de l'élection consulaire <administration@vote.example>",
		Mail: SMTP{Addr: d.Addr, Username: d.User, Password: d.Password(), Timeout: 5 * time.Second,
			TLS: &tls.Config{RootCAs: d.Pool}},
	}
}

func request(t *testing.T, p portal.Portal, numic, email string) {
	t.Helper()
	c, err := p.NewSecurityCode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RequestIdentifierRenewal(context.Background(), portal.IdentifierRenewalRequest{
		NUMIC: numic, Email: email, CodeID: c.ID, Code: servicetest.Code}); err != nil {
		t.Fatal(err)
	}
}

var linkRE = regexp.MustCompile(`https://vote\.example/renouvellement\?jeton=[A-Za-z0-9_-]{43}`)

// TestRenewalThroughRealSMTP: the request goes through the API, the mail
// through a real SMTP server with STARTTLS and AUTH; the test reads the
// received message like a mail client, takes the link, and finishes the
// renewal through the API.
func TestRenewalThroughRealSMTP(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	api := server.New(e.Service.Portal, server.Options{PerClient: -1})
	ts := httptest.NewTLSServer(api)
	t.Cleanup(ts.Close)
	client, err := remote.New(ts.URL, remote.Options{TLS: ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	d := smtptest.Start(t)
	w := worker(t, e, d)

	request(t, client, marie.NUMIC, marie.Email)
	if n, err := w.Once(context.Background()); err != nil || n != 1 {
		t.Fatalf("Once = %d, %v", n, err)
	}
	got := d.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages received", len(got))
	}
	m := got[0]
	if !m.TLS || m.To != marie.Email || m.From != "administration@vote.example" {
		t.Fatalf("envelope %s → %s, TLS %v", m.From, m.To, m.TLS)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Raw)))
	if err != nil {
		t.Fatal(err)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); !strings.HasSuffix(subject, "Identifiant oublié") {
		t.Errorf("subject %q", subject)
	}
	text, html, err := gomail.Parts(m.Raw)
	if err != nil {
		t.Fatal(err)
	}
	link := linkRE.FindString(text)
	if link == "" || !strings.Contains(html, link) {
		t.Fatalf("no link in both parts:\n%s\n%s", text, html)
	}
	c, _ := client.NewSecurityCode(context.Background())
	r, err := client.ConfirmIdentifierRenewal(context.Background(), portal.ConfirmRequest{
		Link: link, Password: marie.Password, CodeID: c.ID, Code: servicetest.Code})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Login(context.Background(), r.Identifier, marie.Password); err != nil {
		t.Fatalf("login with the new identifier: %v", err)
	}
	// The notice of the renewal goes out too, and the first is not resent.
	if n, _ := w.Once(context.Background()); n != 1 {
		t.Fatalf("second round handled %d, want the notice only", n)
	}
	if got := d.Messages(); len(got) != 2 || strings.Contains(string(got[1].Raw), r.Identifier) {
		t.Fatalf("%d messages; the notice must not hold the identifier", len(got))
	}
}

// TestOutageLosesNothing: the relay is down, 50 requests succeed anyway;
// it comes back, and the 50 mails arrive, each once.
func TestOutageLosesNothing(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	d := smtptest.Start(t)
	w := worker(t, e, d)
	d.Stop()

	for range 50 {
		e.Clock.Advance(21 * time.Minute) // stay under 3 requests per hour
		request(t, e.Service.Portal, marie.NUMIC, marie.Email)
	}
	// Rounds of Batch messages each, until none is due.
	n := 0
	for {
		k, err := w.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		n += k
	}
	if n != 50 {
		t.Fatalf("rounds during the outage handled %d", n)
	}
	var pending, attempted int
	e.DB.View(context.Background(), func(tx service.Tx) error {
		ms, _ := tx.Messages(service.MessageFilter{Limit: 100})
		for _, m := range ms {
			if m.State == "pending" {
				pending++
			}
			// "connection refused"; on Windows "… actively refused it."
			if m.Attempts == 1 && strings.Contains(m.LastError, "refused") {
				attempted++
			}
		}
		return nil
	})
	if pending != 50 || attempted != 50 {
		t.Fatalf("after the failed round: %d pending, %d with the error recorded", pending, attempted)
	}
	// Not due again before the backoff.
	if n, _ := w.Once(context.Background()); n != 0 {
		t.Fatalf("%d retried before the backoff", n)
	}

	d.Start() // same address
	e.Clock.Advance(Backoff(1))
	for {
		n, err := w.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	got := d.Messages()
	ids := map[string]bool{}
	for _, m := range got {
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Raw)))
		if err != nil {
			t.Fatal(err)
		}
		ids[msg.Header.Get("Message-Id")] = true
	}
	if len(got) != 50 || len(ids) != 50 {
		t.Fatalf("%d messages with %d distinct Message-Ids arrived, want 50 and 50", len(got), len(ids))
	}
}

// TestDeliveryEndsWithinTheClaim: a relay that holds a delivery past
// three quarters of the claim's lease makes the worker give up on it (to
// try again later) and start no other: a claim never runs out while its
// message is being sent, so no other worker, here or on another server
// instance, can be sending it at the same time.
func TestDeliveryEndsWithinTheClaim(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	d := smtptest.Start(t)
	d.Stop()
	release := make(chan struct{})
	d.Hold = func() { <-release }
	d.Start()
	t.Cleanup(func() { close(release) }) // before the server stops
	w := worker(t, e, d)
	w.Lease = 2 * time.Second
	request(t, e.Service.Portal, marie.NUMIC, marie.Email)
	request(t, e.Service.Portal, marie.NUMIC, marie.Email)

	start := time.Now()
	n, err := w.Once(context.Background())
	took := time.Since(start)
	if err != nil || n != 1 {
		t.Fatalf("round handled %d, %v; want the held message only", n, err)
	}
	if took >= w.Lease {
		t.Errorf("the round took %v, past its claim's lease (%v)", took, w.Lease)
	}
	e.DB.View(context.Background(), func(tx service.Tx) error {
		ms, _ := tx.Messages(service.MessageFilter{Limit: 10})
		if len(ms) != 2 || ms[1].Attempts != 1 || ms[1].LastError == "" || ms[1].State != "pending" {
			t.Errorf("held message %+v: want one failed attempt, to retry", ms[1])
		}
		if ms[0].Attempts != 0 || ms[0].State != "pending" {
			t.Errorf("second message %+v: want it not tried, left to its claim", ms[0])
		}
		return nil
	})
	if got := d.Messages(); len(got) != 0 {
		t.Errorf("%d messages delivered", len(got))
	}
}

func TestFailsForGoodAfterMaxAttempts(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	d := smtptest.Start(t)
	w := worker(t, e, d)
	w.MaxAttempts = 3
	d.SetPassword("changed") // the relay now refuses our credentials
	request(t, e.Service.Portal, marie.NUMIC, marie.Email)
	for i := range 3 {
		if n, _ := w.Once(context.Background()); n != 1 {
			t.Fatalf("attempt %d not made", i+1)
		}
		e.Clock.Advance(time.Hour)
	}
	if n, _ := w.Once(context.Background()); n != 0 {
		t.Fatal("a failed message was tried again")
	}
	e.DB.View(context.Background(), func(tx service.Tx) error {
		ms, _ := tx.Messages(service.MessageFilter{Limit: 1})
		if ms[0].State != "failed" || ms[0].Attempts != 3 || !strings.Contains(ms[0].LastError, "AUTH") {
			t.Errorf("message %+v", ms[0])
		}
		return nil
	})
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 15 * time.Second, 2: 30 * time.Second, 3: time.Minute, 8: 32 * time.Minute, 9: time.Hour, 30: time.Hour} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestSMSThroughHTTPGateway(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	var mu sync.Mutex
	var sms []map[string]string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gw-token" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		sms = append(sms, m)
		fmt.Fprintf(w, `{"id": "gw-%d"}`, len(sms))
		mu.Unlock()
	}))
	t.Cleanup(gw.Close)
	w := &Worker{Store: e.DB, Open: e.Service.Operator.OpenMessage, Clock: e.Clock, SMS: HTTPGateway{URL: gw.URL, Token: "gw-token"}}
	c, _ := e.Service.Portal.NewSecurityCode(context.Background())
	if err := e.Service.Portal.RequestPasswordRenewal(context.Background(), portal.PasswordRenewalRequest{
		Identifier: marie.Identifier, NUMIC: marie.NUMIC, CodeID: c.ID, Code: servicetest.Code}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Once(context.Background()); err != nil || n != 1 {
		t.Fatalf("Once = %d, %v (only the SMS: no mailer)", n, err)
	}
	if len(sms) != 1 || sms[0]["to"] != marie.Mobile || !strings.Contains(sms[0]["text"], "mot de passe") {
		t.Fatalf("gateway got %v", sms)
	}
	// The e-mail notice stays in the outbox: no mailer is configured.
	due, err := e.DB.ClaimDue(context.Background(), e.Clock.Now(), time.Minute, []service.Channel{service.ChannelEmail}, 10)
	if err != nil || len(due) != 1 {
		t.Errorf("%d e-mails pending (%v), want the notice", len(due), err)
	}
	if id, err := (HTTPGateway{URL: gw.URL, Token: "gw-token"}).Send(context.Background(), "+33600000000", "x"); err != nil || id != "gw-2" {
		t.Errorf("Send = %q, %v; want the gateway's id gw-2", id, err)
	}
	bad := HTTPGateway{URL: gw.URL, Token: "wrong"}
	if _, err := bad.Send(context.Background(), "+33600000000", "x"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("refused send: %v", err)
	}
}

func TestParseSMTPURL(t *testing.T) {
	m, err := ParseSMTPURL("smtp://relay:p%40ss@mail.example:587", "")
	if err != nil || m.Addr != "mail.example:587" || m.Username != "relay" || m.Password != "p@ss" || m.Security != TLSRequire {
		t.Fatalf("%+v, %v", m, err)
	}
	for _, tc := range []struct {
		url, mode string
		addr      string
		security  TLSMode
	}{
		{"smtp://mail.example", "", "mail.example:25", TLSRequire},
		{"smtp://127.0.0.1:2525", "", "127.0.0.1:2525", TLSOpportunistic},
		{"smtp://[::1]:2525", "", "[::1]:2525", TLSOpportunistic},
		// A name that starts like a loopback address is not one.
		{"smtp://127.0.0.1.nip.io", "", "127.0.0.1.nip.io:25", TLSRequire},
		{"smtp://mail.example", "opportunistic", "mail.example:25", TLSOpportunistic},
		{"smtp://127.0.0.1", "require", "127.0.0.1:25", TLSRequire},
		{"smtp://127.0.0.1", "none", "127.0.0.1:25", TLSNone},
		{"smtps://mail.example", "", "mail.example:465", TLSImplicit},
		{"smtps://mail.example:2465", "opportunistic", "mail.example:2465", TLSImplicit},
	} {
		m, err := ParseSMTPURL(tc.url, tc.mode)
		if err != nil || m.Addr != tc.addr || m.Security != tc.security {
			t.Errorf("ParseSMTPURL(%q, %q) = %s %s, %v; want %s %s", tc.url, tc.mode, m.Addr, m.Security, err, tc.addr, tc.security)
		}
	}
	for _, bad := range []struct{ url, mode string }{
		{"", ""}, {"mail.example:25", ""}, {"http://mail.example", ""}, {"smtp://", ""},
		{"smtp://h:25/path", ""}, {"smtp://h?x=1", ""}, {"smtp://h", "maybe"}, {"smtps://h", "none"},
	} {
		if _, err := ParseSMTPURL(bad.url, bad.mode); err == nil {
			t.Errorf("ParseSMTPURL(%q, %q) accepted", bad.url, bad.mode)
		}
	}
}
