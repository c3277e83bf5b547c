package outbox

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"consulvote/app/portal"
)

// SMTP sends e-mails to a relay. It sends the queued bytes as they are,
// so that what leaves is exactly what was written with the link's token
// (jordan-wright/email composed them; its own Send would re-encode them and
// cannot make STARTTLS optional with a custom TLS configuration), through
// go-smtp's client, which asks for DSN (net/smtp cannot).
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

// Envelope is an e-mail's SMTP envelope. With an ID (the message's
// reference, app/bounce), the relay is asked for delivery status
// notifications (RFC 3461) when it offers them: on failure or delay, with
// the headers only of the message (never its body, which holds the link),
// and the ID back as the report's Original-Envelope-Id.
type Envelope struct {
	From, To string
	ID       string
}

// Send implements Mailer.
func (m SMTP) Send(ctx context.Context, env Envelope, raw []byte) error {
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := m.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if m.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("smtp: the relay offers no AUTH")
		}
		host, _, _ := net.SplitHostPort(m.Addr)
		if _, isTLS := c.TLSConnectionState(); !isTLS && !portal.IsLoopback(host) {
			return fmt.Errorf("smtp: AUTH refused without TLS to %s", m.Addr)
		}
		if err := c.Auth(sasl.NewPlainClient("", m.Username, m.Password)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	var mailOpts *smtp.MailOptions
	var rcptOpts *smtp.RcptOptions
	if env.ID != "" { // go-smtp drops these when the relay offers no DSN
		mailOpts = &smtp.MailOptions{Return: smtp.DSNReturnHeaders, EnvelopeID: env.ID}
		rcptOpts = &smtp.RcptOptions{Notify: []smtp.DSNNotify{smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed}}
		if isASCII(env.To) {
			rcptOpts.OriginalRecipientType, rcptOpts.OriginalRecipient = smtp.DSNAddressTypeRFC822, env.To
		}
	}
	if err := c.Mail(envelopeAddress(env.From), mailOpts); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(env.To, rcptOpts); err != nil {
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

// dial connects, says EHLO and starts TLS as Security says. go-smtp
// starts TLS only on a new connection: "opportunistic" that finds
// STARTTLS offered connects again to use it.
func (m SMTP) dial(ctx context.Context) (*smtp.Client, error) {
	host, _, _ := net.SplitHostPort(m.Addr)
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if m.TLS != nil {
		cfg = m.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	hello := m.Hello
	if hello == "" {
		hello = "localhost"
	}
	conn, err := m.connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	if m.Security != TLSImplicit && m.Security != TLSNone {
		if m.Security == TLSOpportunistic {
			if err := c.Hello(hello); err != nil {
				c.Close()
				return nil, fmt.Errorf("smtp: EHLO: %w", err)
			}
			if ok, _ := c.Extension("STARTTLS"); !ok {
				return c, nil
			}
			c.Quit()
			if conn, err = m.connect(ctx, cfg); err != nil {
				return nil, err
			}
		}
		// The first EHLO says "localhost"; the one after TLS, hello.
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			return nil, fmt.Errorf("smtp: STARTTLS with %s (TLS is required: --smtp-tls): %w", m.Addr, err)
		}
	}
	if err := c.Hello(hello); err != nil {
		c.Close()
		return nil, fmt.Errorf("smtp: EHLO: %w", err)
	}
	return c, nil
}

// connect opens the TCP connection (TLS from the first byte when
// implicit). The connection closes when ctx ends: go-smtp sets its own
// deadline for each command, so a deadline would not hold.
func (m SMTP) connect(ctx context.Context, cfg *tls.Config) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	if m.Security == TLSImplicit {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("smtp: TLS: %w", err)
		}
		conn = tc
	}
	return conn, nil
}

// envelopeAddress takes the bare address out of "Name <addr>".
func envelopeAddress(from string) string {
	if i, j := strings.LastIndex(from, "<"), strings.LastIndex(from, ">"); i >= 0 && j > i {
		return from[i+1 : j]
	}
	return from
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
