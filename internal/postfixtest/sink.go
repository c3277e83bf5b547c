package postfixtest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink is a recipients' server on 127.0.0.1 (go-smtp) for the relay to
// deliver to: it answers each recipient as Answer says and keeps the
// messages it accepts.
type Sink struct {
	Addr string
	// Answer returns the refusal of a recipient, or nil to accept it.
	Answer func(rcpt string) *smtp.SMTPError

	mu  sync.Mutex
	got [][]byte
}

// StartSink starts a sink, stopped when t ends.
func StartSink(t testing.TB, answer func(rcpt string) *smtp.SMTPError) *Sink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{Addr: l.Addr().String(), Answer: answer}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain = "mx.example.org"
	srv.EnableDSN = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages returns the messages the sink accepted.
func (s *Sink) Messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.got...)
}

type sinkSession struct{ s *Sink }

func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }

func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.Answer != nil {
		if err := x.s.Answer(to); err != nil {
			return err
		}
	}
	return nil
}

func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.got = append(x.s.got, b)
	x.s.mu.Unlock()
	return nil
}

func (x *sinkSession) Reset()        {}
func (x *sinkSession) Logout() error { return nil }
