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
	"runtime/trace"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/backend"
	"consulvote/app/keychain"
	"consulvote/app/outbox"
	"consulvote/app/portal"
	"consulvote/app/remote"
	"consulvote/internal/appleevent"
	"consulvote/internal/envflag"
	"consulvote/internal/instance"
	"consulvote/internal/sound"
	"consulvote/resources"
	"consulvote/screens"
	"consulvote/screens/ui"
)

// appID names the app for Fyne's preferences and the keychain; it must
// match FyneApp.toml.
const appID = "fr.consulvote.portal"

// config is the app's configuration: its flags (each with its
// environment twin, --db and CONSULVOTE_DB…), checked by Validate.
type config struct {
	Demo, DemoReset bool
	DB              string // a local database instead of the demonstration
	Lang            string // fr or en; "": the saved choice, else the system's
	Election        string
	Assistance      string
	Backend         string // URL of consulvoted; "": local data
	SMTP, SMTPTLS   string // a relay for the local mode's outbox
	From            string // the sender of e-mails
	// Rules are the local mode's help-desk rules and letterhead
	// (backend.Config's DeskFlags and MailFlags); with --backend they
	// are the server's.
	Rules backend.Config
	Link  string // a renewal link given as argument
	// sourceGiven: --demo, --demo-reset, --db or --backend chose the data;
	// otherwise the backend saved in the settings screen does.
	sourceGiven bool
}

func defaultConfig() config {
	return config{Election: "2026-05", Assistance: "assistance-vote@consulvote.invalid"}
}

// serverCommands moved to consulvoted with the server.
var serverCommands = map[string]bool{"serve": true, "audit": true, "agent": true, "roll": true, "credentials": true}

func parseFlags(args []string) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("consulvote", flag.ContinueOnError)
	fs.BoolVar(&c.Demo, "demo", false, "run on the demonstration database in the user's data folder (the default)")
	fs.BoolVar(&c.DemoReset, "demo-reset", false, "start the demonstration database afresh")
	fs.StringVar(&c.DB, "db", "", "run on this local database instead of the demonstration")
	fs.StringVar(&c.Lang, "lang", "", "language of the interface: fr or en (default: the system's, else fr)")
	fs.StringVar(&c.Election, "election", c.Election, "month of the election, YYYY-MM, shown under its title in the interface's language (\"Mai 2026\", \"May 2026\"); any other text is shown as given")
	fs.StringVar(&c.Assistance, "assistance", c.Assistance, "how to reach the assistance cell")
	fs.StringVar(&c.Backend, "backend", "", "URL of the backend (consulvoted serve) instead of a local database")
	fs.StringVar(&c.SMTP, "smtp", "", "local mode: send the outbox through this relay, smtp://user:pass@host:port or smtps://…")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", "", "local mode: TLS to the relay: require, opportunistic or none (default require, opportunistic on a loopback address)")
	fs.StringVar(&c.From, "from", "", "local mode: sender of e-mails")
	c.Rules.DeskFlags(fs)
	c.Rules.MailFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: consulvote [options] [renewal link]\n(the server and the office's commands are consulvoted: consulvoted -h)\n\n")
		fs.PrintDefaults()
	}
	if len(args) > 0 && serverCommands[args[0]] {
		return c, fmt.Errorf("%q is a command of consulvoted, the server program: consulvoted %s …", args[0], args[0])
	}
	if err := envflag.Parse(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 1 {
		return c, fmt.Errorf("at most one argument (a renewal link), got %d", fs.NArg())
	}
	c.Link = fs.Arg(0)
	for _, name := range []string{"demo", "demo-reset", "db", "backend"} {
		c.sourceGiven = c.sourceGiven || envflag.Given(fs, name)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	c.Demo = c.DB == "" && c.Backend == ""
	return c, nil
}

// Validate checks the settings and names the first bad one.
func (c config) Validate() error {
	if c.DB != "" && (c.Demo || c.DemoReset) {
		return errors.New("--db and --demo cannot be used together")
	}
	if c.Backend != "" && (c.DB != "" || c.Demo || c.DemoReset || c.SMTP != "") {
		return errors.New("--backend works on the backend's data: no --db, --demo or --smtp with it")
	}
	r := c.Rules
	if c.Backend != "" && (r.ContactApproval != "" || r.ChangeLifetime != 0 || r.DeskRenewals != 0 || len(r.MailLabel) > 0 || len(r.MailSignature) > 0) {
		return errors.New("--backend: the desk's rules and the e-mails' label and signature are the backend's settings " +
			"(consulvoted serve), not the app's")
	}
	if c.Backend != "" {
		if err := portal.CheckServiceURL(c.Backend); err != nil {
			return fmt.Errorf("--backend: %w", err)
		}
	}
	if c.SMTP != "" {
		if _, err := outbox.ParseSMTPURL(c.SMTP, c.SMTPTLS); err != nil {
			return fmt.Errorf("--smtp: %w", err)
		}
	}
	if c.Lang != "" && c.Lang != "fr" && c.Lang != "en" {
		return fmt.Errorf("--lang %q: use fr or en", c.Lang)
	}
	return nil
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consulvote:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(c, log); err != nil {
		fmt.Fprintln(os.Stderr, "consulvote:", err)
		os.Exit(1)
	}
}

func run(c config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// One app per user: a later start (a link clicked while the app runs,
	// the menu entry) hands its link to the running app, which raises its
	// window and shows the link, and ends here, before any window.
	// The start's steps are regions of an execution trace (make profile-start).
	r := trace.StartRegion(ctx, "claim instance")
	primary, err := claimInstance(ctx, c, log)
	r.End()
	if errors.Is(err, instance.ErrHandedOver) {
		return nil
	}
	if err != nil {
		return err
	}
	var handed <-chan string // nil, never ready, without a primary
	if primary != nil {
		defer primary.Close()
		handed = primary.Links()
	}
	apple := appleLinks(log)

	r = trace.StartRegion(ctx, "new app")
	a := newApp(&c)
	r.End()
	// Beside the window system's start (NewWindow), on another core.
	fontsParsed := ui.ParseFonts(a)
	src, err := choosePortal(c, log)
	if err != nil {
		return err
	}
	if src.local != nil {
		defer src.local.Close()
	}
	r = trace.StartRegion(ctx, "build window")
	win := buildWindow(ctx, a, c, src, log, fontsParsed)
	r.End()
	// running ends with the window: links are no longer read, and a later
	// start, refused, becomes the app itself instead of losing its link.
	running, quit := context.WithCancel(ctx)
	defer quit()
	a.Lifecycle().SetOnStarted(func() {
		defer trace.StartRegion(ctx, "started").End()
		// Once the window runs, Fyne quits on SIGINT and SIGTERM itself;
		// one that came during the start quits as soon as it is up. A
		// second Quit, after Fyne's loop has stopped, would close a window
		// GLFW has let go: a panic in the build that ships (fyne.Do-migrated).
		if ctx.Err() != nil {
			a.Quit()
			return
		}
		// The screen's density is known once the window is up.
		screens.FitWindow(win.w)
		if src.local != nil {
			openLocal(ctx, running, a, win.w, src, log)
		}
		if c.Link != "" {
			// The link opens once the window is up, as if pasted.
			win.ui.OpenLink(c.Link)
		}
		go win.takeLinks(running, handed, apple)
	})
	win.w.ShowAndRun()
	quit()
	if primary != nil {
		primary.Close()
	}
	return nil
}

// newApp is the Fyne app, and the backend saved in its settings when no
// option chose the data.
func newApp(c *config) fyne.App {
	// Fyne 2.8 creates its cache folder only one level below the user's
	// cache folder: on a fresh account without ~/.cache it logs errors at
	// start. Fyne reports a failure here itself.
	if d, err := os.UserCacheDir(); err == nil {
		_ = os.MkdirAll(d, 0o700)
	}
	a := app.NewWithID(appID)
	a.SetIcon(resources.SmallIcon)
	if saved := a.Preferences().String(screens.BackendPreference); !c.sourceGiven && saved != "" {
		c.Backend, c.Demo = saved, false
	}
	return a
}

// appleLinks are the links clicked on macOS: they come as Apple Events,
// to the running app or to the one they start. The handler runs inside
// the event loop: it hands the link on and returns at once.
func appleLinks(log *slog.Logger) <-chan string {
	apple := make(chan string, 8)
	appleevent.OnGetURL(func(url string) {
		select {
		case apple <- url:
		default:
			log.Warn("link dropped: too many at once")
		}
	})
	return apple
}

// source is where the app's data is: the portal and the office's
// interfaces over a server's API or over a local store.
type source struct {
	portal    portal.Portal
	outbox    portal.Outbox // the demonstration's local outbox; nil elsewhere
	office    portal.Office
	rollAdmin portal.RollAdmin // local mode only
	// where says where the data is, in the interface's language.
	where func() string
	// local is the local mode's back end, opened once the window is up,
	// and path its database.
	local *backend.Later
	path  string
}

// choosePortal is the server of --backend (or of the settings), else the
// local database of --db or the demonstration's. Nothing is opened yet.
func choosePortal(c config, log *slog.Logger) (source, error) {
	if c.Backend != "" {
		client, err := remote.New(c.Backend, remote.Options{})
		if err != nil {
			return source{}, err
		}
		where := func() string { return lang.X("source.server", "", map[string]any{"URL": client.Backend()}) }
		return source{portal: client, office: client, where: where}, nil
	}
	path, err := localPath(c)
	if err != nil {
		return source{}, err
	}
	// The same wiring as the server's: the delivery worker runs when a
	// relay is set; without one the messages stay in the local outbox.
	cfg := c.Rules
	cfg.Database, cfg.Create, cfg.Demo, cfg.Logger = path, true, c.Demo, log
	cfg.From, cfg.SMTP, cfg.SMTPTLS = c.From, c.SMTP, c.SMTPTLS
	cfg.ReleaseHashMemory = true
	local := backend.NewLater(cfg)
	s := source{portal: local, office: local, rollAdmin: local, local: local, path: path}
	if c.Demo {
		s.outbox = local
	}
	s.where = func() string { return lang.X("source.local", "", map[string]any{"Path": path}) }
	return s, nil
}

// openLocal opens the local store once the first frame is drawn (by
// Show): it migrates and seeds, and the workers start after it; calls
// made meanwhile wait. An open that fails is shown in the window.
func openLocal(ctx, running context.Context, a fyne.App, w fyne.Window, src source, log *slog.Logger) {
	src.local.Open(ctx)
	go func() {
		r := trace.StartRegion(ctx, "local store")
		_, err := src.local.Wait(running)
		r.End()
		if err != nil && running.Err() == nil {
			log.Error("local data", "err", err)
			fyne.Do(func() { showStoreError(a, w, src.path, err) })
		}
	}()
}

// appWindow is the app's one window and the screens it shows.
type appWindow struct {
	w  fyne.Window
	ui *screens.UI // rebuilt when the user switches language
}

// buildWindow makes the window and its screens in the language of
// --lang, else the saved choice, else the system's, once fontsParsed
// has returned (ui.ParseFonts).
func buildWindow(ctx context.Context, a fyne.App, c config, src source, log *slog.Logger, fontsParsed func()) *appWindow {
	win := &appWindow{w: a.NewWindow("consulvote")}
	win.w.Resize(screens.WindowSize(screens.UserScale(a)))
	r := trace.StartRegion(ctx, "wait for fonts")
	fontsParsed()
	r.End()
	speaker := &sound.Speaker{} // one per process: the device opens once
	var build func(language string)
	build = func(language string) {
		if err := resources.LoadTranslations(language); err != nil {
			log.Error("translations", "err", err)
		}
		opt := screens.Options{
			Election:   c.Election,
			Assistance: c.Assistance,
			Keychain:   keychain.Keychain{Service: appID},
			Player:     speaker,
			Backend:    src.where(),
			Language:   language,
			OnLanguage: func(language string) {
				// Saved only when the user switches: writing preferences at
				// every start raced with Fyne's own reload of the file.
				a.Preferences().SetString("language", language)
				build(language)
			},
		}
		opt.Outbox, opt.Office, opt.RollAdmin = src.outbox, src.office, src.rollAdmin
		win.ui = screens.New(a, win.w, src.portal, opt)
	}
	language := c.Lang
	if language == "" {
		language = a.Preferences().String("language")
	}
	build(resources.Language(language))
	return win
}

// takeLinks shows the links from later starts and from macOS, read only
// once the window can show them (a sender hears "taken" only then), until
// running ends. An empty link only raises the window.
func (win *appWindow) takeLinks(running context.Context, handed, apple <-chan string) {
	for {
		var link string
		select {
		case link = <-handed:
		case link = <-apple:
		case <-running.Done():
			return
		}
		fyne.Do(func() {
			win.w.RequestFocus()
			if link != "" {
				win.ui.OpenLink(link)
			}
		})
	}
}

// showStoreError replaces the screens by why the local data could not be
// opened, in the interface's language: without it nothing can work.
func showStoreError(a fyne.App, w fyne.Window, path string, err error) {
	title := widget.NewLabelWithStyle(lang.L("source.error.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text := widget.NewLabel(lang.X("source.error.text", "", map[string]any{"Path": path, "Error": err.Error()}))
	title.Wrapping, text.Wrapping = fyne.TextWrapWord, fyne.TextWrapWord
	quit := widget.NewButton(lang.L("source.error.quit"), a.Quit)
	w.SetTitle(lang.L("source.error.title") + " – consulvote")
	w.SetContent(container.NewPadded(container.NewVBox(title, text, container.NewHBox(quit))))
	w.Canvas().Focus(quit)
}

// claimInstance makes this process the user's one app, or hands its link
// to the running app (instance.ErrHandedOver). When that app does not
// answer, this one runs beside it, as before single instances. A demo
// reset is refused while the app runs: it would delete its database.
func claimInstance(ctx context.Context, c config, log *slog.Logger) (*instance.Primary, error) {
	dir, err := dataDir()
	if err != nil {
		log.Warn("no single instance", "err", err)
		return nil, nil
	}
	if c.DemoReset {
		p, err := instance.Claim(dir)
		if errors.Is(err, instance.ErrRunning) {
			return nil, errors.New("--demo-reset: consulvote is running; quit it first")
		}
		if err != nil {
			log.Warn("no single instance", "err", err)
		}
		return p, nil
	}
	wait, cancel := context.WithTimeout(ctx, instance.Wait+5*time.Second)
	defer cancel()
	p, err := instance.Start(wait, dir, c.Link)
	switch {
	case errors.Is(err, instance.ErrHandedOver):
		if c.sourceGiven {
			log.Warn("consulvote is already running: its window was raised; the data options of this start were not applied")
		}
		return nil, err
	case err != nil:
		log.Warn("no single instance", "err", err)
	}
	return p, nil
}

// localPath is the local database: --db, or the demonstration's.
func localPath(c config) (string, error) {
	if !c.Demo {
		return c.DB, nil
	}
	dir, err := dataDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "demo.db")
	if c.DemoReset {
		for _, f := range []string{path, path + "-wal", path + "-shm", path + ".key"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("reset demo: %w", err)
			}
		}
	}
	return path, nil
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
