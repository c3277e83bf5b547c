package outbox

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"consulvote/app/outbox/smtptest"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// relay starts a real SMTP server on loopback: plain (no STARTTLS
// offered, AUTH allowed in clear as a badly set relay does) or implicit
// TLS from the first byte (smtps).
func relay(t *testing.T, mode string) *smtptest.Server {
	t.Helper()
	d := smtptest.Start(t)
	d.Stop()
	d.Plain, d.Implicit = mode == "plain", mode == "implicit"
	d.Addr = "127.0.0.1:0"
	d.Start()
	return d
}

func client(d *smtptest.Server, security TLSMode) SMTP {
	return SMTP{Addr: d.Addr, Username: d.User, Password: d.Password(), Timeout: 5 * time.Second,
		TLS: &tls.Config{RootCAs: d.Pool}, Security: security}
}

// TestRequireRefusesRelayWithoutSTARTTLS: against a relay that offers no
// STARTTLS, "require" (the default for a relay off loopback) sends
// nothing, "opportunistic" and "none" send in clear as asked.
func TestRequireRefusesRelayWithoutSTARTTLS(t *testing.T) {
	d := relay(t, "plain")
	raw := []byte("Subject: x\r\n\r\nlien secret\r\n")
	for _, sec := range []TLSMode{TLSRequire, ""} {
		err := client(d, sec).Send(context.Background(), Envelope{From: "a@vote.example", To: "b@example.org"}, raw)
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("security %q: %v, want a refusal naming STARTTLS", sec, err)
		}
	}
	if n := len(d.Messages()); n != 0 {
		t.Fatalf("%d messages reached the relay in clear under require", n)
	}
	for _, sec := range []TLSMode{TLSOpportunistic, TLSNone} {
		if err := client(d, sec).Send(context.Background(), Envelope{From: "a@vote.example", To: "b@example.org"}, raw); err != nil {
			t.Fatalf("security %q: %v", sec, err)
		}
	}
	for _, m := range d.Messages() {
		if m.TLS {
			t.Error("a plain relay reported TLS")
		}
	}
}

// TestNoneSkipsOfferedSTARTTLS: "none" does not start TLS even when the
// relay offers it (a relay on loopback with a certificate nobody checks).
func TestNoneSkipsOfferedSTARTTLS(t *testing.T) {
	d := smtptest.Start(t)
	d.Stop()
	d.AllowInsecureAuth = true
	d.Addr = "127.0.0.1:0"
	d.Start()
	if err := client(d, TLSNone).Send(context.Background(), Envelope{From: "a@vote.example", To: "b@example.org"}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := d.Messages(); len(got) != 1 || got[0].TLS {
		t.Fatalf("received %+v, want one message in clear", got)
	}
}

// TestOpportunisticUsesOfferedSTARTTLS: "opportunistic" starts TLS when
// the relay offers it (go-smtp needs a second connection for it).
func TestOpportunisticUsesOfferedSTARTTLS(t *testing.T) {
	d := smtptest.Start(t)
	if err := client(d, TLSOpportunistic).Send(context.Background(), Envelope{From: "a@vote.example", To: "b@example.org"}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := d.Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("received %+v, want one message over TLS", got)
	}
}

// TestImplicitTLS: smtps:// speaks TLS from the first byte (port 465) and
// verifies the relay's certificate.
func TestImplicitTLS(t *testing.T) {
	d := relay(t, "implicit")
	m, err := ParseSMTPURL("smtps://"+d.User+":"+d.Password()+"@"+d.Addr, "")
	if err != nil {
		t.Fatal(err)
	}
	m.TLS, m.Timeout = &tls.Config{RootCAs: d.Pool}, 5*time.Second
	if err := m.Send(context.Background(), Envelope{From: "a@vote.example", To: "b@example.org"}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := d.Messages(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("received %+v, want one message over TLS", got)
	}
	m.TLS = nil // the system's roots do not know the test certificate
	if err := m.Send(context.Background(), Envelope{From: "a@vote.example", To: "b@example.org"}, []byte("x")); err == nil {
		t.Fatal("an unverified certificate was accepted")
	}
}

// TestSentBodyScrubbed: once the relay took a message, its sealed body is
// gone from the database; what the desk shows stays.
func TestSentBodyScrubbed(t *testing.T) {
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	d := smtptest.Start(t)
	request(t, e.Service.Portal, marie.NUMIC, marie.Email)
	if n, err := worker(t, e, d).Once(context.Background()); err != nil || n != 1 {
		t.Fatalf("Once = %d, %v", n, err)
	}
	err := e.DB.View(context.Background(), func(tx service.Tx) error {
		ms, err := tx.Messages(service.MessageFilter{Limit: 10})
		if err != nil {
			return err
		}
		if len(ms) != 1 {
			t.Fatalf("%d messages", len(ms))
		}
		m := ms[0]
		if len(m.Body) != 0 {
			t.Errorf("sent message keeps a %d-byte sealed body", len(m.Body))
		}
		if m.State != "sent" || m.Recipient != marie.Email || m.Kind != "identifier.link" || m.Subject == "" || m.CreatedAt.IsZero() {
			t.Errorf("metadata lost: %+v", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ms := servicetest.Outbox(t, e.Service, e.DB, 10); len(ms) != 1 || ms[0].State != "sent" {
		t.Fatalf("outbox view after scrubbing: %v", ms)
	}
}
