package bounce

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"consulvote/app/outbox"
	"consulvote/internal/postfixtest"
)

// TestPostfixReports: e-mails go through a real Postfix, whose delivery
// to the recipients' server is refused (550 5.1.1) or deferred (450) after
// it accepted them; Postfix's own reports come back to the return paths,
// through the intake, and set each message's state: refused with the
// remote answer, delayed at delay_warning_time, expired at the queue's
// lifetime. The time from the relay's acceptance to each state is logged.
func TestPostfixReports(t *testing.T) {
	f := start(t, nil)
	f.rec.sent = map[int64]Sent{
		7: {Recipient: "unknown@example.org", MessageID: "<m7@vote.example>"},
		8: {Recipient: "busy@example.org", MessageID: "<m8@vote.example>"},
		9: {Recipient: "marie@example.org", MessageID: "<m9@vote.example>"},
	}
	sink := postfixtest.StartSink(t, func(rcpt string) *smtp.SMTPError {
		switch rcpt {
		case "unknown@example.org":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<unknown@example.org>: Recipient address rejected: User unknown"}
		case "busy@example.org":
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox busy, try later"}
		}
		return nil
	})
	relay := postfixtest.Start(t, postfixtest.Config{
		Routes:       map[string]string{"example.org": sink.Addr, "vote.example": f.addr},
		DelayWarning: time.Second, Lifetime: 3 * time.Second,
	})
	host, port, _ := net.SplitHostPort(relay.Addr)
	m := outbox.SMTP{Addr: net.JoinHostPort(host, port), Security: outbox.TLSNone, Timeout: 10 * time.Second}
	accepted := map[int64]time.Time{}
	for id, s := range f.rec.sent {
		from, ref := f.addrs.ReturnPath(id)
		raw := fmt.Sprintf("From: MEAE <administration@vote.example>\r\nTo: %s\r\nSubject: Identifiant\r\nMessage-Id: %s\r\n\r\nSecret link: https://vote.example/x?jeton=SECRET\r\n", s.Recipient, s.MessageID)
		if err := m.Send(context.Background(), outbox.Envelope{From: from, To: s.Recipient, ID: ref}, []byte(raw)); err != nil {
			t.Fatalf("relay refused message %d: %v\n%s", id, err, relay.Log())
		}
		accepted[id] = time.Now()
	}
	seen := map[string]time.Duration{}
	deadline := time.Now().Add(40 * time.Second)
	for len(seen) < 3 && time.Now().Before(deadline) {
		for _, d := range f.rec.deliveries() {
			key := fmt.Sprintf("%d %s", d.Message, d.State)
			if _, ok := seen[key]; !ok {
				seen[key] = time.Since(accepted[d.Message])
				t.Logf("message %d %s after %v: %q", d.Message, d.State, seen[key].Round(time.Millisecond), d.Status)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"7 refused", "8 delayed", "8 expired"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no %q after 40 s; recorded %v\n%s", want, f.rec.deliveries(), relay.Log())
		}
	}
	for _, d := range f.rec.deliveries() {
		if d.Message == 9 {
			t.Errorf("a report for the delivered message: %+v", d)
		}
		if d.Message == 7 && (d.State != "refused" || !strings.Contains(d.Status, "5.1.1") || !strings.Contains(d.Status, "User unknown")) {
			t.Errorf("refusal recorded as %+v", d)
		}
		if strings.Contains(d.Status, "SECRET") {
			t.Errorf("the message's body reached a status: %+v", d)
		}
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("the recipients' server got %d messages, want marie's", n)
	}
	if f.count.get(Recorded) != len(f.rec.deliveries()) || f.count.get(Mismatch)+f.count.get(Malformed)+f.count.get(Dropped) != 0 {
		t.Errorf("counts %v", f.count.n)
	}
}
