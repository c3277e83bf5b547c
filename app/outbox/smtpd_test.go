package outbox

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"consulvote/internal/testcert"
)

// received is one message as the SMTP server got it.
type received struct {
	from, to string
	raw      []byte
	tls      bool
}

// smtpd is a real SMTP server on 127.0.0.1 (github.com/emersion/go-smtp)
// that offers STARTTLS and requires AUTH PLAIN, and keeps what it gets.
type smtpd struct {
	t        *testing.T
	addr     string
	cert     tls.Certificate
	pool     *x509.CertPool // trusts cert
	mu       sync.Mutex
	got      []received
	srv      *smtp.Server
	l        net.Listener
	user, pw string
	// plain offers no STARTTLS and allows AUTH in clear; implicit speaks
	// TLS from the first byte (smtps); allowInsecureAuth allows AUTH in
	// clear while offering STARTTLS.
	plain, implicit, allowInsecureAuth bool
}

func startSMTPD(t *testing.T) *smtpd {
	c := testcert.New(t)
	d := &smtpd{t: t, addr: "127.0.0.1:0", cert: c.TLS, pool: c.Pool, user: "relay", pw: "s3cret"}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *smtpd) start() {
	d.t.Helper()
	l, err := net.Listen("tcp", d.addr)
	if err != nil {
		d.t.Fatal(err)
	}
	d.addr = l.Addr().String() // keep the port for a restart
	d.l = l
	d.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{d: d, conn: c}, nil
	}))
	d.srv.Domain = "localhost"
	d.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{d.cert}}
	d.srv.AllowInsecureAuth = d.plain || d.allowInsecureAuth
	if d.plain {
		d.srv.TLSConfig = nil
	}
	if d.implicit {
		l = tls.NewListener(l, d.srv.TLSConfig)
		d.l = l
	}
	d.srv.ReadTimeout, d.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go d.srv.Serve(l)
}

func (d *smtpd) stop() {
	if d.srv != nil {
		// Close the listener too: Server.Close only knows it once Serve
		// has started, which may not have happened yet.
		d.l.Close()
		d.srv.Close()
		d.srv = nil
	}
}

func (d *smtpd) messages() []received {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]received(nil), d.got...)
}

type session struct {
	d        *smtpd
	conn     *smtp.Conn
	authed   bool
	from, to string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pw string) error {
		if user != s.d.user || pw != s.d.pw {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.d.mu.Lock()
	s.d.got = append(s.d.got, received{from: s.from, to: s.to, raw: raw, tls: isTLS})
	s.d.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { return nil }
