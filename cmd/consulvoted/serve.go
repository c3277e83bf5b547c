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
	"net/netip"
	"strings"
	"sync"
	"time"

	"consulvote/app/backend"
	"consulvote/app/bounce"
	"consulvote/app/metrics"
	"consulvote/app/portal"
	"consulvote/app/receipt"
	"consulvote/app/server"
)

// serveConfig is the configuration of `serve`.
type serveConfig struct {
	Backend          backend.Config
	Listen           string  // the public API's address
	OfficeListen     string  // the office API's own address ("": on Listen)
	MetricsListen    string  // an internal address for /metrics alone ("": none)
	BounceListen     string  // the bounce intake's SMTP address ("": none)
	TLSCert, TLSKey  string  // PEM files; both or neither
	InsecureLoopback bool    // plain HTTP, on a loopback address only
	PerClient        float64 // requests per second per client address; negative: no limit
	TrustedProxies   prefixes
	// StopTimeout bounds a graceful stop: the requests in progress and the
	// delivery being sent get that long to finish.
	StopTimeout time.Duration
}

// defaultServe returns serve's defaults: the database and its key are
// created on first start.
func defaultServe() serveConfig {
	return serveConfig{Backend: backend.Config{Create: true, OutboxStall: backend.DefaultOutboxStall},
		Listen: "127.0.0.1:8443", PerClient: 2, StopTimeout: 20 * time.Second}
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
	for _, l := range []struct{ setting, addr string }{{"office-listen", c.OfficeListen}, {"metrics-listen", c.MetricsListen}} {
		if l.addr == "" {
			continue
		}
		h, _, err := net.SplitHostPort(l.addr)
		if err != nil {
			return bad(l.setting, fmt.Sprintf("%q is not host:port", l.addr))
		}
		if c.TLSCert == "" && !portal.IsLoopback(h) {
			return bad(l.setting, fmt.Sprintf("plain HTTP only on a loopback address, not %q", h))
		}
	}
	if c.MetricsListen != "" && c.MetricsListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
		return bad("metrics-listen", "must differ from --listen: the metrics never go on the public listener")
	}
	if c.StopTimeout <= 0 {
		return bad("stop-timeout", "must be positive")
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
	if c.BounceListen != "" {
		if c.Backend.BounceAddress == "" {
			return bad("bounce-listen", "needs --bounce-address: the intake takes mail for the return paths only")
		}
		if _, _, err := net.SplitHostPort(c.BounceListen); err != nil {
			return bad("bounce-listen", fmt.Sprintf("%q is not host:port", c.BounceListen))
		}
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
	fs.StringVar(&c.Backend.BounceAddress, "bounce-address", "", "template of the e-mails' return paths, e.g. bounce+{ref}@example.org: each names its message, signed, and asks the relay for delivery reports")
	fs.StringVar(&c.Backend.SMSGateway, "sms-gateway", "", "HTTP SMS gateway URL, https (none: SMS stay in the outbox)")
	fs.StringVar(&c.Backend.SMSToken, "sms-token", "", "bearer token of the SMS gateway")
	fs.StringVar(&c.Backend.SMSReceiptToken, "sms-receipt-token", "", "bearer token of the SMS gateway's delivery receipts, POST /sms/receipts/primary on --listen (none: no receipts)")
	fs.StringVar(&c.Backend.SMSFallback, "sms-gateway-fallback", "", "a second SMS gateway URL: an SMS the first reports undelivered, or does not confirm within --sms-fallback-after, is sent once through it")
	fs.StringVar(&c.Backend.SMSFallbackToken, "sms-fallback-token", "", "bearer token of the fallback SMS gateway")
	fs.StringVar(&c.Backend.SMSFallbackReceiptToken, "sms-fallback-receipt-token", "", "bearer token of the fallback gateway's receipts, POST /sms/receipts/fallback")
	fs.DurationVar(&c.Backend.SMSFallbackAfter, "sms-fallback-after", 0, "how long an SMS may stay unconfirmed by the first gateway before the fallback sends it (default 10m)")
	fs.StringVar(&c.BounceListen, "bounce-listen", "", "SMTP address of the bounce intake, e.g. :2525 behind the MX of --bounce-address's domain: delivery reports set each e-mail's state")
	fs.Float64Var(&c.PerClient, "per-client", c.PerClient, "requests per second allowed per client address, bursts of 20; negative: no limit")
	fs.Var(&c.TrustedProxies, "trusted-proxy", "a balancer or proxy in front, CIDR (repeatable, or comma-separated): from it, the client is the right-most address of X-Forwarded-For that is not one; else the header is ignored")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "serve /metrics (and /healthz, /readyz) on this internal address too; /metrics is on --office-listen anyway, never on --listen")
	fs.DurationVar(&c.StopTimeout, "stop-timeout", c.StopTimeout, "on SIGTERM, how long the requests in progress and the delivery being sent get to finish")
	fs.DurationVar(&c.Backend.OutboxStall, "outbox-stall", c.Backend.OutboxStall, "/readyz fails when the delivery worker shows no progress for this long")
	fs.DurationVar(&c.Backend.OutboxLease, "outbox-lease", 0, "how long an instance's claim on a batch of messages to send lasts; a dead instance's messages go out after it (default 2m)")
	c.Backend.DeskFlags(fs)
}

// prefixes is a repeatable flag of CIDR prefixes; a bare address is its
// own /32 or /128.
type prefixes []netip.Prefix

func (p *prefixes) String() string {
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixes) Set(v string) error {
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		x, err := netip.ParsePrefix(f)
		if a, aerr := netip.ParseAddr(f); err != nil && aerr == nil {
			x, err = a.Prefix(a.BitLen())
		}
		if err != nil {
			return fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8 or fd00::/8", f)
		}
		*p = append(*p, x.Masked())
	}
	return nil
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
// listened on by listener: "public", and "office" and "metrics" when
// they have their own.
//
// Listeners: --listen has the voters' API (and the office's unless
// --office-listen); /metrics goes on --office-listen and --metrics-listen,
// never on --listen. /healthz and /readyz are on every listener.
//
// A stop (ctx ending: SIGTERM, Ctrl-C) closes the listeners, lets the
// requests in progress finish and the delivery worker finish its message
// concurrently, both within StopTimeout, then closes the store.
func runServe(ctx context.Context, c serveConfig, ready func(addrs map[string]string)) error {
	log := c.Backend.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := metrics.New()
	c.Backend.Observer = m
	c.Backend.Drain = c.StopTimeout
	b, err := backend.Open(ctx, c.Backend)
	if err != nil {
		return err
	}
	defer b.Close() // last: after the listeners have drained
	b.Start()
	m.Watch(b.Service.Operator, log)

	ls := listeners(c, b, m, log)
	intake, bounceAddr, err := startIntake(c.BounceListen, b)
	if err != nil {
		return err
	}
	if intake != nil {
		defer intake.Close()
	}
	if err := openListeners(ls, c, b, log); err != nil {
		return err
	}
	errc := serveAll(ls, c, log)
	if ready != nil {
		ready(listenedAddrs(ls, bounceAddr))
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return stop(b, intake, ls, c, log)
}

// listener is one of serve's HTTP listeners.
type listener struct {
	name, setting, addr string
	h                   *server.Handler
	srv                 *http.Server
	l                   net.Listener
}

// listeners makes the handlers of the public listener and of the internal
// ones the flags ask for, before any of them listens.
func listeners(c serveConfig, b *backend.Backend, m *metrics.Metrics, log *slog.Logger) []*listener {
	svc := b.Service
	public := server.Options{Logger: log, PerClient: c.PerClient, TrustedProxies: c.TrustedProxies, Office: svc.Office, Observer: m, Ready: b.Ready}
	if c.OfficeListen != "" {
		public.Office = nil // the office answers on its own listener only
	}
	internal := server.Options{Logger: log, PerClient: c.PerClient, TrustedProxies: c.TrustedProxies, OfficeOnly: true, Observer: m, Ready: b.Ready,
		Metrics: m.Handler()}
	ls := []*listener{{name: "public", setting: "listen", addr: c.Listen, h: server.New(svc.Portal, public)}}
	if c.OfficeListen != "" {
		o := internal
		o.Office = svc.Office
		ls = append(ls, &listener{name: "office", setting: "office-listen", addr: c.OfficeListen, h: server.New(nil, o)})
	}
	if c.MetricsListen != "" {
		ls = append(ls, &listener{name: "metrics", setting: "metrics-listen", addr: c.MetricsListen, h: server.New(nil, internal)})
	}
	return ls
}

// openListeners listens on every address, or on none if one fails, and
// gives each its HTTP server; the public one also takes the SMS gateways'
// receipts, which come from outside.
func openListeners(ls []*listener, c serveConfig, b *backend.Backend, log *slog.Logger) error {
	for _, x := range ls {
		var err error
		if x.l, err = listen(x.addr, c, x.setting); err != nil {
			for _, y := range ls {
				if y.l != nil {
					y.l.Close()
				}
			}
			return err
		}
		x.srv = newHTTPServer(x.h, log)
	}
	if r := b.Receipts(); r != nil {
		mux := http.NewServeMux()
		mux.Handle(receipt.Path, r)
		mux.Handle("/", ls[0].h)
		ls[0].srv.Handler = mux
	}
	return nil
}

// serveAll says where it serves and serves every listener; the channel
// gets each Serve's end.
func serveAll(ls []*listener, c serveConfig, log *slog.Logger) <-chan error {
	log.Info("serving", "addr", ls[0].l.Addr().String(), "tls", c.TLSCert != "", "smtp", c.Backend.SMTP != "",
		"sms", c.Backend.SMSGateway != "", "office", c.OfficeListen == "")
	for _, x := range ls[1:] {
		log.Info("serving the "+x.name, "addr", x.l.Addr().String(), "tls", c.TLSCert != "")
	}
	errc := make(chan error, len(ls))
	for _, x := range ls {
		go func() { errc <- x.srv.Serve(x.l) }()
	}
	return errc
}

// listenedAddrs are the addresses listened on, by listener, and the
// bounce intake's when it runs.
func listenedAddrs(ls []*listener, bounceAddr string) map[string]string {
	addrs := map[string]string{}
	for _, x := range ls {
		addrs[x.name] = x.l.Addr().String()
	}
	if bounceAddr != "" {
		addrs["bounce"] = bounceAddr
	}
	return addrs
}

// stop closes the listeners and lets their requests in progress finish
// while the delivery worker finishes its message and the intake closes,
// all within StopTimeout.
func stop(b *backend.Backend, intake *bounce.Intake, ls []*listener, c serveConfig, log *slog.Logger) error {
	begun := time.Now()
	log.Info("shutting down", "timeout", c.StopTimeout.String())
	shutdown, cancel := context.WithTimeout(context.Background(), c.StopTimeout)
	defer cancel()
	var stopped sync.WaitGroup
	stopped.Go(b.Stop) // the delivery in progress, while the requests drain
	if intake != nil {
		stopped.Go(func() { intake.Close() })
	}
	errs := make([]error, len(ls))
	for i, x := range ls {
		stopped.Go(func() {
			if err := x.srv.Shutdown(shutdown); err != nil {
				x.srv.Close()
				errs[i] = fmt.Errorf("%s listener: %w", x.name, err)
			}
		})
	}
	stopped.Wait()
	log.Info("stopped", "after_ms", time.Since(begun).Milliseconds())
	return errors.Join(errs...)
}

// startIntake serves the bounce intake on addr ("": none).
func startIntake(addr string, b *backend.Backend) (*bounce.Intake, string, error) {
	in := b.Intake()
	if addr == "" || in == nil {
		return nil, "", nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", &backend.ConfigError{Setting: "bounce-listen", Why: err.Error()}
	}
	go in.Serve(l)
	return in, l.Addr().String(), nil
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
