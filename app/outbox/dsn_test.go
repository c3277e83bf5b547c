package outbox

import (
	"context"
	"slices"
	"testing"

	"github.com/emersion/go-smtp"

	"consulvote/app/bounce"
	"consulvote/app/outbox/smtptest"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// TestReturnPathAsksForDSN: with return paths, an e-mail leaves with an
// envelope sender that names it, signed, and asks a relay that offers DSN
// for failure and delay reports, headers only, with its reference back; a
// relay that offers no DSN gets the same return path and no parameter it
// would refuse.
func TestReturnPathAsksForDSN(t *testing.T) {
	for _, dsn := range []bool{true, false} {
		e := servicetest.New(t, servicetest.Config(), service.Options{})
		d := smtptest.Start(t)
		d.Stop()
		d.DSN = dsn
		d.Start()
		paths, err := bounce.NewAddresses("bounce+{ref}@vote.example", []byte("server key"))
		if err != nil {
			t.Fatal(err)
		}
		w := worker(t, e, d)
		w.ReturnPaths = paths
		request(t, e.Service.Portal, marie.NUMIC, marie.Email)
		if n, err := w.Once(context.Background()); err != nil || n != 1 {
			t.Fatalf("DSN %v: Once = %d, %v", dsn, n, err)
		}
		got := d.Messages()
		if len(got) != 1 {
			t.Fatalf("DSN %v: %d messages", dsn, len(got))
		}
		m := got[0]
		var id int64
		e.DB.View(context.Background(), func(tx service.Tx) error {
			ms, _ := tx.Messages(service.MessageFilter{Limit: 1})
			id = ms[0].ID
			return nil
		})
		if named, err := paths.Message(m.From); err != nil || named != id {
			t.Fatalf("DSN %v: return path %q names %d, %v; want message %d", dsn, m.From, named, err, id)
		}
		_, ref := paths.ReturnPath(id)
		want := smtp.MailOptions{}
		wantNotify := []smtp.DSNNotify(nil)
		if dsn {
			want = smtp.MailOptions{Body: m.Mail.Body, Return: smtp.DSNReturnHeaders, EnvelopeID: ref}
			wantNotify = []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}
		}
		m.Mail.Body = want.Body // 8BITMIME is the relay's business
		if m.Mail != want || !slices.Equal(m.Rcpt.Notify, wantNotify) {
			t.Errorf("DSN %v: MAIL %+v, NOTIFY %v; want %+v, %v", dsn, m.Mail, m.Rcpt.Notify, want, wantNotify)
		}
		if dsn && (m.Rcpt.OriginalRecipientType != smtp.DSNAddressTypeRFC822 || m.Rcpt.OriginalRecipient != marie.Email) {
			t.Errorf("ORCPT %s;%s", m.Rcpt.OriginalRecipientType, m.Rcpt.OriginalRecipient)
		}
	}
}
