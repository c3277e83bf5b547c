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

// TestDeliveryThroughPostfix: the server relays two voters' e-mails
// through a real Postfix, which accepts them; the recipients' server
// refuses marie's afterwards (550 5.1.1) and defers john's (450 4.2.0);
// Postfix's own reports come back to the e-mails' return paths, at
// --bounce-listen: a failure for marie's, a delay warning for john's at
// delay_warning_time. The desk's voter files (the office API) then show
// marie's e-mail refused with the remote answer and the contact change
// suggested, john's delayed with the answer; the outbox monitor and
// /metrics count each once. The time from the relay's acceptance to each
// state at the desk is logged.
func TestDeliveryThroughPostfix(t *testing.T) {
	t.Parallel()
	marie, john := service.DemoRoll[0], service.DemoRoll[1]
	sink := postfixtest.StartSink(t, func(rcpt string) *smtp.SMTPError {
		switch rcpt {
		case marie.Email:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + ">: Recipient address rejected: User unknown in virtual mailbox table"}
		case john.Email:
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "<" + rcpt + ">: Mailbox busy, try again later"}
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
	relay := postfixtest.Start(t, postfixtest.Config{Routes: map[string]string{"example.org": sink.Addr, "vote.example": bounceAddr},
		DelayWarning: time.Second})

	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{Database: db, Create: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.AddAgent(ctx, "guichet", portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
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
	// At the desk, the agent sends each a renewal link.
	voters := map[string]int64{}
	for _, v := range []service.DemoVoter{marie, john} {
		found, err := office.FindVoters(ctx, s.Token, v.NUMIC)
		if err != nil || len(found) != 1 {
			t.Fatalf("find %s: %v, %v", v.NUMIC, found, err)
		}
		voters[v.Email] = found[0].ID
		if _, err := office.StartRenewal(ctx, s.Token, found[0].ID, portal.RenewIdentifier, "au téléphone"); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{marie.Email: "refused", john.Email: "delayed"}
	email := map[string]portal.MessageState{}
	relayed, reached := map[string]time.Time{}, map[string]time.Time{}
	for deadline := time.Now().Add(60 * time.Second); len(reached) < len(want) && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for to, id := range voters {
			if !reached[to].IsZero() {
				continue
			}
			f, err := office.VoterFile(ctx, s.Token, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range f.Messages {
				if m.Channel != "email" {
					continue
				}
				email[to] = m
				switch m.Stage() {
				case "relayed":
					if relayed[to].IsZero() {
						relayed[to] = time.Now()
					}
				case want[to]:
					reached[to] = time.Now()
				}
			}
		}
	}
	for to, stage := range want {
		if reached[to].IsZero() {
			t.Fatalf("after 60 s %s's e-mail is %q, want %q (%+v)\n%s", to, email[to].Stage(), stage, email[to], relay.Log())
		}
		if !relayed[to].IsZero() {
			t.Logf("relay accepted → %s at the desk: %v (polled every 5 ms)", stage, reached[to].Sub(relayed[to]).Round(time.Millisecond))
		}
	}
	if m := email[marie.Email]; !strings.Contains(m.DeliveryStatus, "5.1.1") || !strings.Contains(m.DeliveryStatus, "User unknown") || !m.UserUnknown() {
		t.Errorf("refusal shown as %+v", m)
	}
	if m := email[john.Email]; !strings.Contains(m.DeliveryStatus, "4.2.0") || !strings.Contains(m.DeliveryStatus, "Mailbox busy") || m.UserUnknown() {
		t.Errorf("delay shown as %+v", m)
	}
	st, err := office.OutboxStatus(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stages["refused"] != 1 || st.Stages["delayed"] != 1 || len(st.Domains) != 1 ||
		st.Domains[0] != (portal.DomainDelivery{Domain: "example.org", Relayed: 2, Refused: 1}) {
		t.Errorf("outbox status: stages %v, domains %v", st.Stages, st.Domains)
	}
	_, metrics := get(t, "http://"+addrs["office"]+"/metrics")
	for _, want := range []string{`consulvote_delivery_total{channel="email",state="refused"} 1`,
		`consulvote_delivery_total{channel="email",state="delayed"} 1`,
		`consulvote_delivery_total{channel="email",state="relayed"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if got := len(sink.Messages()); got != 0 {
		t.Errorf("the recipients' server took %d e-mails", got)
	}
}
