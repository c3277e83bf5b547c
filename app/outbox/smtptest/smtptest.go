// Package smtptest runs a real SMTP server on 127.0.0.1 for tests
// (github.com/emersion/go-smtp): it offers STARTTLS with a test
// certificate, requires AUTH PLAIN, and keeps what it receives. The
// outbox's tests and the multi-instance tests share it.
package smtptest

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

// Message is one message as the server got it.
type Message struct {
	From, To string
	Raw      []byte
	TLS      bool
	// Mail and Rcpt are the envelope's parameters (DSN: RET, ENVID,
	// NOTIFY, ORCPT), when the client gave any.
	Mail smtp.MailOptions
	Rcpt smtp.RcptOptions
}

// Server is a real SMTP server on 127.0.0.1. The fields before Start
// choose how it behaves; Start (or a Stop and Start) applies them.
type Server struct {
	t    testing.TB
	Addr string // host:port; 127.0.0.1:0 picks a port, kept across a restart
	Cert tls.Certificate
	Pool *x509.CertPool // trusts Cert
	User string
	// Plain offers no STARTTLS and allows AUTH in clear; Implicit speaks
	// TLS from the first byte (smtps); AllowInsecureAuth allows AUTH in
	// clear while offering STARTTLS.
	Plain, Implicit, AllowInsecureAuth bool
	// DSN offers delivery status notifications (RFC 3461).
	DSN bool
	// Hold, when set, runs when a client names its recipient, before the
	// server answers: a test that blocks in it holds that client in the
	// middle of a delivery, before it has sent the message. A client that
	// goes away meanwhile delivers nothing. (Past the message's last line,
	// a relay has it: a client that dies before reading the relay's 250
	// cannot know, and sends it again.)
	Hold func()

	mu       sync.Mutex
	password string
	got      []Message
	srv      *smtp.Server
	l        net.Listener
}

// Start starts a server with user "relay" and password "s3cret", stopped
// when t ends.
func Start(t testing.TB) *Server {
	c := testcert.New(t)
	d := &Server{t: t, Addr: "127.0.0.1:0", Cert: c.TLS, Pool: c.Pool, User: "relay", password: "s3cret"}
	d.Start()
	t.Cleanup(d.Stop)
	return d
}

// Password returns the password the server accepts.
func (d *Server) Password() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.password
}

// SetPassword changes the password the server accepts from now on.
func (d *Server) SetPassword(pw string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.password = pw
}

// Start listens on Addr and serves.
func (d *Server) Start() {
	d.t.Helper()
	l, err := net.Listen("tcp", d.Addr)
	if err != nil {
		d.t.Fatal(err)
	}
	d.Addr = l.Addr().String() // keep the port for a restart
	d.l = l
	d.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{d: d, conn: c}, nil
	}))
	d.srv.Domain = "localhost"
	d.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{d.Cert}}
	d.srv.AllowInsecureAuth = d.Plain || d.AllowInsecureAuth
	d.srv.EnableDSN = d.DSN
	if d.Plain {
		d.srv.TLSConfig = nil
	}
	if d.Implicit {
		l = tls.NewListener(l, d.srv.TLSConfig)
		d.l = l
	}
	d.srv.ReadTimeout, d.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go d.srv.Serve(l)
}

// Stop closes the server; Start starts it again on the same address.
func (d *Server) Stop() {
	if d.srv != nil {
		// Close the listener too: Server.Close only knows it once Serve
		// has started, which may not have happened yet.
		d.l.Close()
		d.srv.Close()
		d.srv = nil
	}
}

// Messages returns what the server received, in order.
func (d *Server) Messages() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Message(nil), d.got...)
}

type session struct {
	d        *Server
	conn     *smtp.Conn
	authed   bool
	from, to string
	mail     smtp.MailOptions
	rcpt     smtp.RcptOptions
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pw string) error {
		if user != s.d.User || pw != s.d.Password() {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	if opts != nil {
		s.mail = *opts
	}
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.d.Hold != nil {
		s.d.Hold()
	}
	s.to = to
	if opts != nil {
		s.rcpt = *opts
	}
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.d.mu.Lock()
	s.d.got = append(s.d.got, Message{From: s.from, To: s.to, Raw: raw, TLS: isTLS, Mail: s.mail, Rcpt: s.rcpt})
	s.d.mu.Unlock()
	return nil
}

func (s *session) Reset() {
	s.from, s.to, s.mail, s.rcpt = "", "", smtp.MailOptions{}, smtp.RcptOptions{}
}
func (s *session) Logout() error { return nil }
