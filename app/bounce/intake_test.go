package bounce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// memory is a recorder of a few sent messages, for the intake's unit
// tests (the real one, the service on a real store, is tested end to end
// with Postfix).
type memory struct {
	mu   sync.Mutex
	sent map[int64]Sent
	got  []Delivery
}

func (m *memory) Sent(_ context.Context, id int64) (Sent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sent[id]
	if !ok {
		return Sent{}, ErrUnknown
	}
	return s, nil
}

func (m *memory) Record(_ context.Context, d Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, d)
	return nil
}

func (m *memory) deliveries() []Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Delivery(nil), m.got...)
}

type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(o string) { c.mu.Lock(); c.n[o]++; c.mu.Unlock() }
func (c *counts) get(o string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[o]
}

type fixture struct {
	addrs *Addresses
	rec   *memory
	count *counts
	addr  string
	in    *Intake
}

func start(t testing.TB, tune func(*Intake)) *fixture {
	t.Helper()
	a, err := NewAddresses("bounce+{ref}@vote.example", []byte("server key"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{addrs: a, count: &counts{n: map[string]int{}}, rec: &memory{sent: map[int64]Sent{
		7: {Recipient: "marie@example.org", MessageID: "<aaaa@vote.example>"},
		8: {Recipient: "paul@example.org", MessageID: "<bbbb@vote.example>"},
	}}}
	f.in = &Intake{Addresses: a, Recorder: f.rec, Count: f.count.add, Rate: rate.Inf}
	if tune != nil {
		tune(f.in)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	go f.in.Serve(l)
	t.Cleanup(func() { f.in.Close() })
	return f
}

// send delivers raw from "from" to "to" and returns the server's answer.
func (f *fixture) send(from, to, raw string) error {
	c, err := smtp.Dial(f.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, []string{to}, strings.NewReader(raw))
}

func (f *fixture) path(id int64) (string, string) { return f.addrs.ReturnPath(id) }

// dsn is a delivery status notification as Postfix writes one.
func dsn(to, ref, action, status, diag, returnedID, returnedTo string) string {
	b := "----=_b"
	return strings.ReplaceAll(`From: MAILER-DAEMON@relay.example (Mail Delivery System)
To: `+returnedTo+`
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="`+b+`"

--`+b+`
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--`+b+`
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example
X-Postfix-Queue-ID: 4F1A2B
Original-Envelope-Id: `+ref+`
Arrival-Date: Mon,  7 Dec 2026 05:00:00 +0000

Final-Recipient: rfc822; `+to+`
Original-Recipient: rfc822;`+to+`
Action: `+action+`
Status: `+status+`
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; `+diag+`

--`+b+`
Content-Type: text/rfc822-headers

Return-Path: <`+returnedTo+`>
From: MEAE <administration@vote.example>
To: `+to+`
Subject: Identifiant
Message-Id: `+returnedID+`
Content-Type: multipart/alternative; boundary=x

--`+b+`--
`, "\n", "\r\n")
}

func TestIntakeRecordsAReport(t *testing.T) {
	f := start(t, nil)
	addr, ref := f.path(7)
	if err := f.send("", addr, dsn("marie@example.org", ref, "failed", "5.1.1",
		"550 5.1.1 <marie@example.org>: Recipient address rejected: User unknown", "<aaaa@vote.example>", addr)); err != nil {
		t.Fatal(err)
	}
	addr, ref = f.path(8)
	if err := f.send("", addr, dsn("paul@example.org", ref, "delayed", "4.4.1",
		"connect to mx.example.org: Connection timed out", "<bbbb@vote.example>", addr)); err != nil {
		t.Fatal(err)
	}
	want := []Delivery{
		{7, "refused", "550 5.1.1 <marie@example.org>: Recipient address rejected: User unknown"},
		{8, "delayed", "4.4.1 connect to mx.example.org: Connection timed out"},
	}
	if got := f.rec.deliveries(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	if n := f.count.get(Recorded); n != 2 {
		t.Errorf("%d counted recorded", n)
	}
}

// TestIntakeNonStandardBounce: a bounce that is no report counts when it
// quotes the message's Message-Id, and only then.
func TestIntakeNonStandardBounce(t *testing.T) {
	f := start(t, nil)
	addr, _ := f.path(7)
	body := func(id string) string {
		return "From: postmaster@old.example\r\nSubject: failure notice\r\n\r\n" +
			"Sorry, I couldn't deliver your message.\r\n<marie@example.org>:\r\n" +
			"550 5.7.1 Message rejected as spam\r\n\r\n--- Below this line is a copy of the message.\r\n\r\n" +
			"Message-Id: " + id + "\r\nSubject: Identifiant\r\n\r\nVotre lien : https://vote.example/renouvellement?jeton=SECRET\r\n"
	}
	for _, id := range []string{"<aaaa@vote.example>", "<bbbb@vote.example>"} {
		if err := f.send("", addr, body(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.send("", addr, "Subject: hello\r\n\r\nno id here\r\n"); err != nil {
		t.Fatal(err)
	}
	got := f.rec.deliveries()
	if len(got) != 1 || got[0] != (Delivery{7, "refused", "550 5.7.1 Message rejected as spam"}) {
		t.Fatalf("recorded %v; want only the bounce quoting message 7's id, without the copy's body", got)
	}
	if f.count.get(Mismatch) != 1 || f.count.get(Dropped) != 1 {
		t.Errorf("counts %v", f.count.n)
	}
}

// TestIntakeHostile: each of these is refused or dropped, counted, and
// records nothing.
func TestIntakeHostile(t *testing.T) {
	f := start(t, func(in *Intake) { in.MaxBytes = 256 << 10 })
	addr7, ref7 := f.path(7)
	_, ref8 := f.path(8)
	addr9, ref9 := f.path(9) // signed, of no message
	report := func(to, ref, id, returnedTo string) string {
		return dsn(to, ref, "failed", "5.1.1", "550 5.1.1 User unknown", id, returnedTo)
	}
	good := report("marie@example.org", ref7, "<aaaa@vote.example>", addr7)
	bounceOfBounce := strings.Replace(good, "Content-Type: multipart/alternative; boundary=x",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=y", 1)
	// A bounce sent to our return path, from the null sender, bounced.
	bounceToUs := strings.Replace(good, "Return-Path: <"+addr7+">\r\nFrom: MEAE <administration@vote.example>\r\nTo: marie@example.org",
		"Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example\r\nTo: "+addr7, 1)
	huge := strings.Replace(good, "I'm sorry", strings.Repeat("padding line of a very large report\r\n", 10<<20/37), 1)
	for _, tc := range []struct {
		name, from, to, raw string
		refused             bool // at the SMTP level
		outcome             string
	}{
		{"unsigned return path", "", "bounce+7@vote.example", good, true, RefusedAddress},
		{"forged signature", "", strings.Replace(addr7, ref7, "7-"+strings.Repeat("a", 16), 1), good, true, RefusedAddress},
		{"another domain", "", strings.Replace(addr7, "vote.example", "evil.example", 1), good, true, RefusedAddress},
		{"a signed return path of no message", "", addr9, report("marie@example.org", ref9, "<aaaa@vote.example>", addr9), false, Mismatch},
		{"a report naming another message's reference", "", addr7, report("marie@example.org", ref8, "<aaaa@vote.example>", addr7), false, Mismatch},
		{"a report of another recipient", "", addr7, report("paul@example.org", ref7, "<aaaa@vote.example>", addr7), false, Mismatch},
		{"a report returning another Message-Id", "", addr7, report("marie@example.org", ref7, "<bbbb@vote.example>", addr7), false, Mismatch},
		{"a 10 MB report", "", addr7, huge, true, TooLarge},
		{"no boundary", "", addr7, "Content-Type: multipart/report; report-type=delivery-status\r\n\r\nx\r\n", false, Malformed},
		{"a broken part", "", addr7, "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nbroken\x00 header\r\n", false, Malformed},
		{"a report without status", "", addr7, "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n", false, Malformed},
		{"no header at all", "", addr7, "\x00\x01\x02", false, Malformed},
		{"a bounce of a bounce", "", addr7, bounceOfBounce, false, Loop},
		{"a bounce of a bounce sent to us", "", addr7, bounceToUs, false, Loop},
		{"mail from our own return path", addr7, addr7, good, true, Loop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.count.get(tc.outcome)
			err := f.send(tc.from, tc.to, tc.raw)
			var se *smtp.SMTPError
			if tc.refused != errors.As(err, &se) {
				t.Errorf("answer %v; want refused %v", err, tc.refused)
			}
			if f.count.get(tc.outcome) != before+1 {
				t.Errorf("not counted %s: %v (answer %v)", tc.outcome, f.count.n, err)
			}
			if got := f.rec.deliveries(); len(got) != 0 {
				t.Fatalf("recorded %v", got)
			}
		})
	}
	// And the good one still goes through.
	if err := f.send("", addr7, good); err != nil || len(f.rec.deliveries()) != 1 {
		t.Fatalf("a good report after them: %v, %v", err, f.rec.deliveries())
	}
}

// TestIntakeRate: past its rate, the intake asks senders to come back
// later (a temporary answer: a relay tries again), counted.
func TestIntakeRate(t *testing.T) {
	f := start(t, func(in *Intake) { in.Rate, in.Burst = 0.001, 2 })
	addr, ref := f.path(7)
	report := dsn("marie@example.org", ref, "failed", "5.1.1", "550 5.1.1 User unknown", "<aaaa@vote.example>", addr)
	var refused int
	for range 5 {
		var se *smtp.SMTPError
		if err := f.send("", addr, report); errors.As(err, &se) && se.Code == 450 {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if refused != 3 || f.count.get(RateLimited) != 3 || len(f.rec.deliveries()) != 2 {
		t.Fatalf("%d refused, counts %v, %d recorded; want 3, 3 rate_limited, 2", refused, f.count.n, len(f.rec.deliveries()))
	}
}

// TestIntakeSessions: past MaxSessions connections at once, a new one is
// turned away; once one ends, there is room again.
func TestIntakeSessions(t *testing.T) {
	f := start(t, func(in *Intake) { in.MaxSessions = 2 })
	var open []*smtp.Client
	for range 2 {
		c, err := smtp.Dial(f.addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Hello("a"); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	c, err := smtp.Dial(f.addr)
	if err != nil {
		t.Fatal(err)
	}
	var se *smtp.SMTPError
	if err := c.Hello("a"); !errors.As(err, &se) || se.Code != 421 {
		t.Fatalf("third session: %v, want 421", err)
	}
	c.Close()
	open[0].Quit()
	// Quit returns on the server's 221; the server ends the session just
	// after it (Logout), so wait for that before asking for room.
	for deadline := time.Now().Add(5 * time.Second); f.in.sessions.Load() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions 5 s after one ended, want 1", f.in.sessions.Load())
		}
	}
	addr, ref := f.path(7)
	if err := f.send("", addr, dsn("marie@example.org", ref, "failed", "5.1.1", "x", "<aaaa@vote.example>", addr)); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	open[1].Quit()
}
