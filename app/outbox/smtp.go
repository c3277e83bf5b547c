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

	"consulvote/app/portal"
)

// SMTP sends e-mails to a relay. It sends the queued bytes as they are,
// so that what leaves is exactly what was written with the link's token
// (jordan-wright/email composed them; its own Send would re-encode them and
// cannot make STARTTLS optional with a custom TLS configuration).
type SMTP struct {
	Addr     string // host:port
	Username string // AUTH PLAIN when set (only over TLS or to loopback)
	Password string
	// Security says when TLS is used: TLSRequire (the default) refuses to
	// send to a relay that does not offer STARTTLS, so that a link never
	// travels in clear; TLSOpportunistic uses STARTTLS when offered;
	// TLSNone never does; TLSImplicit speaks TLS from the first byte
	// (smtps://, port 465).
	Security TLSMode
	// TLS configures the TLS of the connection; nil verifies the relay's
	// certificate against the system's roots.
	TLS *tls.Config
	// Hello is the name given in EHLO (default "localhost").
	Hello string
	// Timeout bounds one delivery (default 30 s).
	Timeout time.Duration
}

// TLSMode says when a relay is spoken to over TLS (SMTP.Security).
type TLSMode string

// The TLS modes of --smtp-tls; TLSImplicit comes from an smtps:// URL.
const (
	TLSRequire       TLSMode = "require"
	TLSOpportunistic TLSMode = "opportunistic"
	TLSNone          TLSMode = "none"
	TLSImplicit      TLSMode = "implicit"
)

// ParseSMTPURL reads smtp://[user:password@]host[:port] (port 25 by
// default; 587 is the usual submission port) or smtps://… (TLS from the
// first byte, port 465 by default), and the --smtp-tls mode: "require",
// "opportunistic", "none", or "" for the default, which is "require"
// unless the relay is on a loopback address. An smtps URL is always TLS.
func ParseSMTPURL(s, mode string) (SMTP, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return SMTP{}, fmt.Errorf("SMTP URL: want smtp://user:password@host:port or smtps://…")
	}
	port := u.Port()
	switch {
	case port != "":
	case u.Scheme == "smtps":
		port = "465"
	default:
		port = "25"
	}
	m := SMTP{Addr: net.JoinHostPort(u.Hostname(), port)}
	switch TLSMode(mode) {
	case "":
		m.Security = TLSRequire
		if portal.IsLoopback(u.Hostname()) {
			m.Security = TLSOpportunistic
		}
	case TLSRequire, TLSOpportunistic, TLSNone:
		m.Security = TLSMode(mode)
	default:
		return SMTP{}, fmt.Errorf("SMTP TLS %q: want require, opportunistic or none", mode)
	}
	if u.Scheme == "smtps" {
		if m.Security == TLSNone {
			return SMTP{}, fmt.Errorf("SMTP TLS none with an smtps URL: smtps is TLS")
		}
		m.Security = TLSImplicit
	}
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
	// Cancelled (a stop past its drain), the exchange ends at once, not at
	// the deadline.
	unwatch := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer unwatch()
	host, _, _ := net.SplitHostPort(m.Addr)
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if m.TLS != nil {
		cfg = m.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	if m.Security == TLSImplicit {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("smtp: TLS: %w", err)
		}
		conn = tc
	}
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
	switch starttls, _ := c.Extension("STARTTLS"); {
	case m.Security == TLSImplicit || m.Security == TLSNone:
	case starttls:
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	case m.Security != TLSOpportunistic: // require, and the zero value
		return fmt.Errorf("smtp: the relay %s offers no STARTTLS and TLS is required (--smtp-tls)", m.Addr)
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
