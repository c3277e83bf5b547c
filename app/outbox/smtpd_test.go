package outbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testCert is a self-signed certificate for 127.0.0.1, and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

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
}

func startSMTPD(t *testing.T) *smtpd {
	cert, pool := testCert(t)
	d := &smtpd{t: t, addr: "127.0.0.1:0", cert: cert, pool: pool, user: "relay", pw: "s3cret"}
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
