package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"consulvote/app/backend"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/service"
	"consulvote/internal/postfixtest"
)

// TestRefusalThroughPostfix: the server relays a voter's e-mail through a
// real Postfix, which accepts it; the recipient's server refuses it
// afterwards (550 5.1.1); Postfix's own report comes back to the e-mail's
// return path, at --bounce-listen; the desk's voter file (the office API)
// then shows the e-mail refused with the remote answer and the contact
// change suggested, and /metrics counts the refusal. The time from the
// relay's acceptance to the refusal at the desk is logged.
func TestRefusalThroughPostfix(t *testing.T) {
	marie := service.DemoRoll[0]
	sink := postfixtest.StartSink(t, func(rcpt string) *smtp.SMTPError {
		if rcpt == marie.Email {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + ">: Recipient address rejected: User unknown in virtual mailbox table"}
		}
		return nil
	})
	// The intake's port, chosen before Postfix routes the return paths'
	// domain to it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bounceAddr := l.Addr().String()
	l.Close()
	relay := postfixtest.Start(t, postfixtest.Config{Routes: map[string]string{"example.org": sink.Addr, "vote.example": bounceAddr}})

	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{Database: db, Create: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.AddAgent(ctx, "guichet", portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	b.Close()

	addrs := startServe(t, "--db", db, "--public-url", "https://vote.example", "--insecure-loopback",
		"--listen", "127.0.0.1:0", "--office-listen", "127.0.0.1:0", "--per-client", "-1",
		"--smtp", "smtp://"+relay.Addr, "--smtp-tls", "none", "--from", "MEAE <administration@vote.example>",
		"--bounce-address", "bounce+{ref}@vote.example", "--bounce-listen", bounceAddr)
	office, err := remote.New("http://"+addrs["office"], remote.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := office.AgentLogin(ctx, "guichet", "correct horse battery", "")
	if err != nil {
		t.Fatal(err)
	}
	found, err := office.FindVoters(ctx, s.Token, marie.NUMIC)
	if err != nil || len(found) != 1 {
		t.Fatalf("find: %v, %v", found, err)
	}
	// At the desk, the agent sends marie a renewal link.
	if _, err := office.StartRenewal(ctx, s.Token, found[0].ID, portal.RenewIdentifier, "au téléphone"); err != nil {
		t.Fatal(err)
	}
	var relayed, refused time.Time
	var email portal.MessageState
	for deadline := time.Now().Add(60 * time.Second); refused.IsZero() && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		f, err := office.VoterFile(ctx, s.Token, found[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range f.Messages {
			if m.Channel != "email" {
				continue
			}
			email = m
			switch m.Stage() {
			case "relayed":
				if relayed.IsZero() {
					relayed = time.Now()
				}
			case "refused":
				refused = time.Now()
			}
		}
	}
	if refused.IsZero() {
		t.Fatalf("after 60 s the e-mail is %q (%+v)\n%s", email.Stage(), email, relay.Log())
	}
	if !relayed.IsZero() {
		t.Logf("relay accepted → refusal at the desk: %v (polled every 20 ms)", refused.Sub(relayed).Round(time.Millisecond))
	}
	if !strings.Contains(email.DeliveryStatus, "5.1.1") || !strings.Contains(email.DeliveryStatus, "User unknown") || !email.UserUnknown() {
		t.Errorf("refusal shown as %+v", email)
	}
	st, err := office.OutboxStatus(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stages["refused"] != 1 || len(st.Domains) != 1 || st.Domains[0] != (portal.DomainDelivery{Domain: "example.org", Relayed: 1, Refused: 1}) {
		t.Errorf("outbox status: stages %v, domains %v", st.Stages, st.Domains)
	}
	_, metrics := get(t, "http://"+addrs["office"]+"/metrics")
	for _, want := range []string{`consulvote_delivery_total{channel="email",state="refused"} 1`,
		`consulvote_delivery_total{channel="email",state="relayed"} 1`, `consulvote_bounces_total{outcome="recorded"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if got := len(sink.Messages()); got != 0 {
		t.Errorf("the recipients' server took %d e-mails", got)
	}
}
