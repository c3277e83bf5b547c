package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"consulvote/app/keyfile"
	"consulvote/app/outbox"
	"consulvote/app/server"
	"consulvote/app/service"
	"consulvote/app/store"
)

// serveConfig is the configuration of `consulvote serve`. Every flag has
// an environment twin: --listen and CONSULVOTE_LISTEN, and so on.
type serveConfig struct {
	listen           string
	officeListen     string
	db               string
	key              string
	tlsCert, tlsKey  string
	insecureLoopback bool
	publicURL        string
	smtp             string
	smtpTLS          string
	from             string
	smsURL           string
	smsToken         string
	perClient        float64
}

// configError names the setting that is wrong; serve exits 2 on it.
type configError struct{ setting, why string }

func (e *configError) Error() string { return e.setting + ": " + e.why }

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("consulvote serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv("CONSULVOTE_" + name); ok {
			return v
		}
		return def
	}
	fs.StringVar(&c.listen, "listen", env("LISTEN", "127.0.0.1:8443"), "address to listen on (CONSULVOTE_LISTEN)")
	fs.StringVar(&c.officeListen, "office-listen", env("OFFICE_LISTEN", ""), "serve the consular office's API on this address only, e.g. an internal one (CONSULVOTE_OFFICE_LISTEN; default: on --listen)")
	fs.StringVar(&c.db, "db", env("DB", ""), "the server's SQLite database (CONSULVOTE_DB)")
	fs.StringVar(&c.key, "key", env("KEY", ""), "secret key file for hashes and the outbox, created on first start (CONSULVOTE_KEY; default: beside the database)")
	fs.StringVar(&c.tlsCert, "tls-cert", env("TLS_CERT", ""), "TLS certificate, PEM (CONSULVOTE_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", env("TLS_KEY", ""), "TLS private key, PEM (CONSULVOTE_TLS_KEY)")
	fs.BoolVar(&c.insecureLoopback, "insecure-loopback", env("INSECURE_LOOPBACK", "") == "true", "allow plain HTTP on a loopback address (CONSULVOTE_INSECURE_LOOPBACK=true)")
	fs.StringVar(&c.publicURL, "public-url", env("PUBLIC_URL", ""), "base URL of the links in e-mails (CONSULVOTE_PUBLIC_URL)")
	fs.StringVar(&c.smtp, "smtp", env("SMTP", ""), "mail relay, smtp://user:pass@host:port (CONSULVOTE_SMTP; none: mail stays in the outbox)")
	fs.StringVar(&c.smtpTLS, "smtp-tls", env("SMTP_TLS", ""), "TLS to the relay: require, opportunistic or none (CONSULVOTE_SMTP_TLS; default require, opportunistic for a relay on a loopback address; smtps:// is always TLS)")
	fs.StringVar(&c.from, "from", env("FROM", ""), "sender of e-mails, e.g. \"MEAE <noreply@example.org>\" (CONSULVOTE_FROM)")
	fs.StringVar(&c.smsURL, "sms-gateway", env("SMS_GATEWAY", ""), "HTTP SMS gateway URL (CONSULVOTE_SMS_GATEWAY; none: SMS stay in the outbox)")
	fs.StringVar(&c.smsToken, "sms-token", env("SMS_TOKEN", ""), "bearer token of the SMS gateway (CONSULVOTE_SMS_TOKEN)")
	fs.Float64Var(&c.perClient, "per-client", 2, "requests per second allowed per client address, bursts of 20; negative: no limit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, &configError{"arguments", fmt.Sprintf("unexpected %q", fs.Arg(0))}
	}
	if c.db == "" {
		return c, &configError{"--db", "required: the path of the server's database"}
	}
	if c.key == "" {
		c.key = c.db + ".key"
	}
	host, _, err := net.SplitHostPort(c.listen)
	if err != nil {
		return c, &configError{"--listen", fmt.Sprintf("%q is not host:port", c.listen)}
	}
	if c.officeListen != "" {
		officeHost, _, err := net.SplitHostPort(c.officeListen)
		if err != nil {
			return c, &configError{"--office-listen", fmt.Sprintf("%q is not host:port", c.officeListen)}
		}
		if c.tlsCert == "" && !isLoopbackHost(officeHost) {
			return c, &configError{"--office-listen", fmt.Sprintf("plain HTTP only on a loopback address, not %q", officeHost)}
		}
	}
	switch {
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return c, &configError{"--tls-cert/--tls-key", "give both or neither"}
	case c.tlsCert == "" && !c.insecureLoopback:
		return c, &configError{"--tls-cert", "required: plain HTTP is refused (except --insecure-loopback on a loopback address)"}
	case c.tlsCert == "" && !isLoopbackHost(host):
		return c, &configError{"--insecure-loopback", fmt.Sprintf("plain HTTP only on a loopback address, not %q", host)}
	}
	if c.publicURL == "" {
		return c, &configError{"--public-url", "required: the base of the links sent by e-mail"}
	}
	if c.smtp != "" {
		if _, err := outbox.ParseSMTPURL(c.smtp, c.smtpTLS); err != nil {
			return c, &configError{"--smtp", err.Error()}
		}
		if c.from == "" {
			return c, &configError{"--from", "required with --smtp"}
		}
	}
	if c.smsURL != "" && !strings.HasPrefix(c.smsURL, "https://") && !strings.HasPrefix(c.smsURL, "http://127.") {
		return c, &configError{"--sms-gateway", "must be an https URL"}
	}
	return c, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serve runs the backend until SIGINT or SIGTERM, then shuts down
// gracefully. Nothing of the GUI is initialised.
func serve(args []string) int {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	c, err := parseServe(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consulvote serve:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runServe(ctx, c, log, nil); err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			fmt.Fprintln(os.Stderr, "consulvote serve:", err)
			return 2
		}
		fmt.Fprintln(os.Stderr, "consulvote serve:", err)
		return 1
	}
	return 0
}

// runServe serves until ctx ends; ready, when set, gets the addresses
// listened on (office: "" when the office shares the public one).
func runServe(ctx context.Context, c serveConfig, log *slog.Logger, ready func(public, office string)) error {
	if err := os.MkdirAll(filepath.Dir(c.db), 0o700); err != nil {
		return fmt.Errorf("database folder: %w", err)
	}
	key, err := keyfile.LoadOrCreate(c.key)
	if err != nil {
		return &configError{"--key", err.Error()}
	}
	db, err := store.Open(ctx, c.db)
	if err != nil {
		return &configError{"--db", err.Error()}
	}
	defer db.Close()
	cfg := service.DefaultConfig()
	cfg.Secret, cfg.PublicURL = key, c.publicURL
	if c.from != "" {
		cfg.Mail.From = c.from
	}
	svc, err := service.New(db, cfg, service.Options{Logger: log})
	if err != nil {
		return &configError{"configuration", err.Error()}
	}

	w := &outbox.Worker{Store: db, Open: svc.OpenMessage, From: cfg.Mail.From, Log: log}
	if c.smtp != "" {
		m, _ := outbox.ParseSMTPURL(c.smtp, c.smtpTLS)
		w.Mail = m
	}
	if c.smsURL != "" {
		w.SMS = outbox.HTTPGateway{URL: c.smsURL, Token: c.smsToken}
	}
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); w.Run(ctx) }()
	go checkpoints(ctx, svc, log)
	defer svc.CheckpointAudit(context.Background())

	public := server.Options{Logger: log, PerClient: c.perClient, Office: svc}
	if c.officeListen != "" {
		public.Office = nil // the office answers on its own listener only
	}
	h := server.New(svc, public)
	defer h.Close()
	srv := newHTTPServer(h, log)
	l, err := listen(c.listen, c, "--listen")
	if err != nil {
		return err
	}
	log.Info("serving", "addr", l.Addr().String(), "tls", c.tlsCert != "", "smtp", c.smtp != "", "sms", c.smsURL != "",
		"office", c.officeListen == "")
	var officeSrv *http.Server
	officeAddr := ""
	errc := make(chan error, 2)
	if c.officeListen != "" {
		oh := server.New(nil, server.Options{Logger: log, PerClient: c.perClient, Office: svc, OfficeOnly: true})
		defer oh.Close()
		ol, err := listen(c.officeListen, c, "--office-listen")
		if err != nil {
			l.Close()
			return err
		}
		officeSrv, officeAddr = newHTTPServer(oh, log), ol.Addr().String()
		log.Info("serving the office", "addr", officeAddr, "tls", c.tlsCert != "")
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
	<-workerDone
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
		return nil, &configError{setting, err.Error()}
	}
	if c.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			l.Close()
			return nil, &configError{"--tls-cert", err.Error()}
		}
		l = tls.NewListener(l, server.TLSConfig(cert))
	}
	return l, nil
}

// checkpoints records a signed checkpoint of the audit log every minute
// until ctx ends.
func checkpoints(ctx context.Context, svc *service.Service, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := svc.CheckpointAudit(ctx); err != nil && ctx.Err() == nil {
			log.Error("audit checkpoint", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
