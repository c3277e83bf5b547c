package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"consulvote/app/backend"
	"consulvote/app/portal"
	"consulvote/app/server"
)

// serveConfig is the configuration of `serve`.
type serveConfig struct {
	Backend          backend.Config
	Listen           string  // the public API's address
	OfficeListen     string  // the office API's own address ("": on Listen)
	TLSCert, TLSKey  string  // PEM files; both or neither
	InsecureLoopback bool    // plain HTTP, on a loopback address only
	PerClient        float64 // requests per second per client address; negative: no limit
}

// defaultServe returns serve's defaults: the database and its key are
// created on first start.
func defaultServe() serveConfig {
	return serveConfig{Backend: backend.Config{Create: true}, Listen: "127.0.0.1:8443", PerClient: 2}
}

// Validate checks every setting and names the first bad one.
func (c serveConfig) Validate() error {
	bad := func(setting, why string) error { return &backend.ConfigError{Setting: setting, Why: why} }
	if err := c.Backend.Validate(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return bad("listen", fmt.Sprintf("%q is not host:port", c.Listen))
	}
	if c.OfficeListen != "" {
		officeHost, _, err := net.SplitHostPort(c.OfficeListen)
		if err != nil {
			return bad("office-listen", fmt.Sprintf("%q is not host:port", c.OfficeListen))
		}
		if c.TLSCert == "" && !portal.IsLoopback(officeHost) {
			return bad("office-listen", fmt.Sprintf("plain HTTP only on a loopback address, not %q", officeHost))
		}
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return bad("tls-cert/--tls-key", "give both or neither")
	case c.TLSCert == "" && !c.InsecureLoopback:
		return bad("tls-cert", "required: plain HTTP is refused (except --insecure-loopback on a loopback address)")
	case c.TLSCert == "" && !portal.IsLoopback(host):
		return bad("insecure-loopback", fmt.Sprintf("plain HTTP only on a loopback address, not %q", host))
	}
	if c.Backend.PublicURL == "" {
		return bad("public-url", "required: the base of the links sent by e-mail")
	}
	if c.Backend.SMTP != "" && c.Backend.From == "" {
		return bad("from", "required with --smtp")
	}
	return nil
}

// flags declares serve's flags into c.
func (c *serveConfig) flags(fs *flag.FlagSet) {
	storeFlags(fs, &c.Backend)
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on")
	fs.StringVar(&c.OfficeListen, "office-listen", "", "serve the consular office's API on this address only, e.g. an internal one (default: on --listen)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate, PEM")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key, PEM")
	fs.BoolVar(&c.InsecureLoopback, "insecure-loopback", false, "allow plain HTTP on a loopback address")
	fs.StringVar(&c.Backend.PublicURL, "public-url", "", "base URL of the links in e-mails")
	fs.StringVar(&c.Backend.SMTP, "smtp", "", "mail relay, smtp://user:pass@host:port or smtps://… (none: mail stays in the outbox)")
	fs.StringVar(&c.Backend.SMTPTLS, "smtp-tls", "", "TLS to the relay: require, opportunistic or none (default require, opportunistic for a relay on a loopback address; smtps:// is always TLS)")
	fs.StringVar(&c.Backend.SMSGateway, "sms-gateway", "", "HTTP SMS gateway URL, https (none: SMS stay in the outbox)")
	fs.StringVar(&c.Backend.SMSToken, "sms-token", "", "bearer token of the SMS gateway")
	fs.Float64Var(&c.PerClient, "per-client", c.PerClient, "requests per second allowed per client address, bursts of 20; negative: no limit")
}

func serveFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	c := defaultServe()
	c.flags(fs)
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 0 {
			return &usageError{fmt.Sprintf("unexpected %q", args[0])}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		c.Backend.Logger = slog.New(slog.NewJSONHandler(io.err, nil))
		return runServe(ctx, c, nil)
	}
}

// runServe serves until ctx ends; ready, when set, gets the addresses
// listened on (office: "" when the office shares the public one).
func runServe(ctx context.Context, c serveConfig, ready func(public, office string)) error {
	log := c.Backend.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, err := backend.Open(ctx, c.Backend)
	if err != nil {
		return err
	}
	defer b.Close() // last: after the listeners have drained
	b.Start()
	svc := b.Service

	public := server.Options{Logger: log, PerClient: c.PerClient, Office: svc}
	if c.OfficeListen != "" {
		public.Office = nil // the office answers on its own listener only
	}
	h := server.New(svc, public)
	defer h.Close()
	srv := newHTTPServer(h, log)
	l, err := listen(c.Listen, c, "listen")
	if err != nil {
		return err
	}
	log.Info("serving", "addr", l.Addr().String(), "tls", c.TLSCert != "", "smtp", c.Backend.SMTP != "",
		"sms", c.Backend.SMSGateway != "", "office", c.OfficeListen == "")
	var officeSrv *http.Server
	officeAddr := ""
	errc := make(chan error, 2)
	if c.OfficeListen != "" {
		oh := server.New(nil, server.Options{Logger: log, PerClient: c.PerClient, Office: svc, OfficeOnly: true})
		defer oh.Close()
		ol, err := listen(c.OfficeListen, c, "office-listen")
		if err != nil {
			l.Close()
			return err
		}
		officeSrv, officeAddr = newHTTPServer(oh, log), ol.Addr().String()
		log.Info("serving the office", "addr", officeAddr, "tls", c.TLSCert != "")
		go func() { errc <- officeSrv.Serve(ol) }()
	}
	if ready != nil {
		ready(l.Addr().String(), officeAddr)
	}
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if officeSrv != nil {
		err = errors.Join(err, officeSrv.Shutdown(shutdown))
	}
	return err
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listen opens addr, with TLS when c has a certificate.
func listen(addr string, c serveConfig, setting string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &backend.ConfigError{Setting: setting, Why: err.Error()}
	}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			l.Close()
			return nil, &backend.ConfigError{Setting: "tls-cert", Why: err.Error()}
		}
		l = tls.NewListener(l, server.TLSConfig(cert))
	}
	return l, nil
}
