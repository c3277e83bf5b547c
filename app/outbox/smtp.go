package outbox

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTP sends e-mails to a relay. It sends the queued bytes as they are,
// so that what leaves is exactly what was written with the link's token
// (jordan-wright/email composed them; its own Send would re-encode them and
// cannot make STARTTLS optional with a custom TLS configuration).
type SMTP struct {
	Addr     string // host:port
	Username string // AUTH PLAIN when set (only over TLS or to loopback)
	Password string
	// TLS configures STARTTLS, used whenever the relay offers it; nil
	// verifies the relay's certificate against the system's roots.
	TLS *tls.Config
	// Hello is the name given in EHLO (default "localhost").
	Hello string
	// Timeout bounds one delivery (default 30 s).
	Timeout time.Duration
}

// ParseSMTPURL reads smtp://[user:password@]host[:port] (port 25 by
// default; 587 is the usual submission port).
func ParseSMTPURL(s string) (SMTP, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return SMTP{}, fmt.Errorf("SMTP URL: want smtp://user:password@host:port")
	}
	port := u.Port()
	if port == "" {
		port = "25"
	}
	m := SMTP{Addr: net.JoinHostPort(u.Hostname(), port)}
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	return m, nil
}

// Send implements Mailer.
func (m SMTP) Send(ctx context.Context, from, to string, raw []byte) error {
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(m.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	hello := m.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if m.TLS != nil {
			cfg = m.TLS.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	}
	if m.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("smtp: the relay offers no AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(envelopeAddress(from)); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil { // the relay's answer to the message
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	c.Quit()
	return nil
}

// envelopeAddress takes the bare address out of "Name <addr>".
func envelopeAddress(from string) string {
	if i, j := strings.LastIndex(from, "<"), strings.LastIndex(from, ">"); i >= 0 && j > i {
		return from[i+1 : j]
	}
	return from
}
