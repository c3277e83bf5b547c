// Command consulvote is the voter's application of the internet voting
// portal of the French consular elections: the recovery of a lost login
// identifier, and the voter's login. Without options it runs on a local
// demonstration database.
package main

import (
	// First, so that it runs before Fyne reads the locale.
	_ "consulvote/internal/localeenv"

	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"consulvote/app/keychain"
	"consulvote/app/keyfile"
	"consulvote/app/outbox"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/app/service"
	"consulvote/app/store"
	"consulvote/internal/sound"
	"consulvote/resources"
	"consulvote/screens"
)

// appID names the app for Fyne's preferences and the keychain; it must
// match FyneApp.toml.
const appID = "fr.consulvote.portal"

// options are the command line.
type options struct {
	demo, demoReset bool
	db              string
	lang            string
	election        string
	assistance      string
	backend         string // URL of `consulvote serve`; empty: local database
	smtp, smtpTLS   string // a relay for the local mode's outbox
	from            string // the sender of e-mails
	link            string // a renewal link given as argument
	// sourceGiven: --demo, --demo-reset, --db or --backend chose the data;
	// otherwise the backend saved in the settings screen does.
	sourceGiven bool
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("consulvote", flag.ContinueOnError)
	fs.BoolVar(&o.demo, "demo", false, "run on the demonstration database in the user's data folder (the default)")
	fs.BoolVar(&o.demoReset, "demo-reset", false, "start the demonstration database afresh")
	fs.StringVar(&o.db, "db", "", "run on this local database instead of the demonstration")
	fs.StringVar(&o.lang, "lang", "", "language of the interface: fr or en (default: the system's, else fr)")
	fs.StringVar(&o.election, "election", "Mai 2026", "date line of the election, shown under its title")
	fs.StringVar(&o.assistance, "assistance", "assistance-vote@consulvote.invalid", "how to reach the assistance cell")
	fs.StringVar(&o.backend, "backend", os.Getenv("CONSULVOTE_BACKEND"), "URL of the backend (consulvote serve) instead of a local database (CONSULVOTE_BACKEND)")
	fs.StringVar(&o.smtp, "smtp", "", "local mode: send the outbox through this relay, smtp://user:pass@host:port or smtps://…")
	fs.StringVar(&o.smtpTLS, "smtp-tls", "", "local mode: TLS to the relay: require, opportunistic or none (default require, opportunistic on a loopback address)")
	fs.StringVar(&o.from, "from", os.Getenv("CONSULVOTE_FROM"), "local mode: sender of e-mails (CONSULVOTE_FROM)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: consulvote [options] [renewal link]\n       consulvote serve [options]   (the backend; see consulvote serve -h)\n       consulvote audit verify --db PATH\n       consulvote agent add --db PATH NAME --role admin|agent\n       consulvote roll import --db PATH FILE [--errors REPORT.csv]\n       consulvote credentials send --db PATH --campaign NAME\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 1 {
		return o, fmt.Errorf("at most one argument (a renewal link), got %d", fs.NArg())
	}
	o.link = fs.Arg(0)
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "demo", "demo-reset", "db", "backend":
			o.sourceGiven = true
		}
	})
	o.sourceGiven = o.sourceGiven || o.backend != ""
	if o.db != "" && (o.demo || o.demoReset) {
		return o, errors.New("--db and --demo cannot be used together")
	}
	if o.backend != "" && (o.db != "" || o.demo || o.demoReset || o.smtp != "") {
		return o, errors.New("--backend works on the backend's data: no --db, --demo or --smtp with it")
	}
	if o.smtp != "" {
		if _, err := outbox.ParseSMTPURL(o.smtp, o.smtpTLS); err != nil {
			return o, fmt.Errorf("--smtp: %w", err)
		}
	}
	if o.lang != "" && o.lang != "fr" && o.lang != "en" {
		return o, fmt.Errorf("--lang %q: use fr or en", o.lang)
	}
	o.demo = o.db == "" && o.backend == ""
	return o, nil
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve":
			os.Exit(serve(os.Args[2:]))
		case "audit", "agent", "roll", "credentials":
			os.Exit(adminCommand(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consulvote:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(o, log); err != nil {
		fmt.Fprintln(os.Stderr, "consulvote:", err)
		os.Exit(1)
	}
}

func run(o options, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Fyne 2.8 creates its cache folder only one level below the user's
	// cache folder: on a fresh account without ~/.cache it logs errors at
	// start. Fyne reports a failure here itself.
	if d, err := os.UserCacheDir(); err == nil {
		_ = os.MkdirAll(d, 0o700)
	}
	a := app.NewWithID(appID)
	a.SetIcon(resources.Icon)
	if saved := a.Preferences().String(screens.BackendPreference); !o.sourceGiven && saved != "" {
		o.backend, o.demo = saved, false
	}
	var p portal.Portal
	var outboxView portal.Outbox
	var office portal.Office
	var rollAdmin portal.RollAdmin
	var where string
	if o.backend != "" {
		client, err := remote.New(o.backend, remote.Options{})
		if err != nil {
			return fmt.Errorf("backend: %w", err)
		}
		p, office, where = client, client, "Serveur : "+client.Backend()
	} else {
		path, err := localPath(o)
		if err != nil {
			return err
		}
		svc, db, err := openLocal(ctx, path, o.demo, o.from, log)
		if err != nil {
			return err
		}
		defer db.Close()
		go checkpoints(ctx, svc, log)
		defer svc.CheckpointAudit(context.Background())
		p, where = svc, "Base locale : "+path
		office, rollAdmin = svc, svc
		if o.demo {
			outboxView = svc
		}
		if o.smtp != "" {
			// The same delivery worker as the server's; without a relay the
			// messages stay in the local outbox.
			m, _ := outbox.ParseSMTPURL(o.smtp, o.smtpTLS)
			from := o.from
			if from == "" {
				from = service.DefaultConfig().Mail.From
			}
			w := &outbox.Worker{Store: db, Open: svc.OpenMessage, Mail: m, From: from, Log: log}
			go w.Run(ctx)
		}
	}

	w := a.NewWindow("consulvote")
	w.Resize(fyne.NewSize(760, 840))

	var ui *screens.UI
	speaker := &sound.Speaker{} // one per process: the device opens once
	var build func(language string)
	build = func(language string) {
		if err := resources.LoadTranslations(language); err != nil {
			log.Error("translations", "err", err)
		}
		opt := screens.Options{
			Election:   o.election,
			Assistance: o.assistance,
			Keychain:   keychain.Keychain{Service: appID},
			Player:     speaker,
			Backend:    where,
			Language:   language,
			OnLanguage: func(language string) {
				// Saved only when the user switches: writing preferences at
				// every start raced with Fyne's own reload of the file.
				a.Preferences().SetString("language", language)
				build(language)
			},
		}
		opt.Outbox, opt.Office, opt.RollAdmin = outboxView, office, rollAdmin
		ui = screens.New(a, w, p, opt)
	}
	language := o.lang
	if language == "" {
		language = a.Preferences().String("language")
	}
	build(resources.Language(language))
	if o.link != "" {
		// The link opens once the window is up, as if pasted.
		a.Lifecycle().SetOnStarted(func() { ui.OpenLink(o.link) })
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return nil
}

// localPath is the local database: --db, or the demonstration's.
func localPath(o options) (string, error) {
	if !o.demo {
		return o.db, nil
	}
	dir, err := dataDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "demo.db")
	if o.demoReset {
		for _, f := range []string{path, path + "-wal", path + "-shm", path + ".key"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("reset demo: %w", err)
			}
		}
	}
	return path, nil
}

// openLocal opens the local database and the service on it; the demo
// database is seeded with the demonstration roll on first use.
func openLocal(ctx context.Context, path string, demo bool, from string, log *slog.Logger) (*service.Service, *store.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("database folder: %w", err)
	}
	svc, db, err := openPortal(ctx, path, path+".key", func(cfg *service.Config) {
		cfg.PublicURL = "https://vote.consulvote.invalid"
		if from != "" {
			cfg.Mail.From = from
		}
	}, log)
	if err != nil {
		return nil, nil, err
	}
	if demo {
		if err := svc.SeedDemoRoll(ctx); err != nil && !errors.Is(err, service.ErrRollNotEmpty) {
			db.Close()
			return nil, nil, err
		}
	}
	return svc, db, nil
}

// openPortal opens the database at path, with the secret key at keyPath
// (created if missing), and the service on it; edit, when set, adjusts
// the default configuration.
func openPortal(ctx context.Context, path, keyPath string, edit func(*service.Config), log *slog.Logger) (*service.Service, *store.DB, error) {
	key, err := keyfile.LoadOrCreate(keyPath)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	cfg := service.DefaultConfig()
	cfg.Secret = key
	if edit != nil {
		edit(&cfg)
	}
	svc, err := service.New(db, cfg, service.Options{Logger: log})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, db, nil
}

// dataDir is where the app keeps its local databases.
func dataDir() (string, error) {
	switch runtime.GOOS {
	case "windows", "darwin":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("data folder: %w", err)
		}
		return filepath.Join(d, "consulvote"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "consulvote"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data folder: %w", err)
	}
	return filepath.Join(home, ".local", "share", "consulvote"), nil
}
