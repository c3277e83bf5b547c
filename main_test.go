package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/backend"
	"consulvote/internal/screenshot"
	"consulvote/internal/testenv"
	"consulvote/resources"
	"consulvote/screens/ui"
)

func TestParseFlags(t *testing.T) {
	def := defaultConfig()
	with := func(edit func(*config)) config { c := def; edit(&c); return c }
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{nil, nil, with(func(c *config) { c.Demo = true }), ""},
		{[]string{"--demo-reset"}, nil, with(func(c *config) { c.Demo, c.DemoReset, c.sourceGiven = true, true, true }), ""},
		{[]string{"--db", "/tmp/x.db", "https://v/renouvellement?jeton=x"}, nil,
			with(func(c *config) { c.DB, c.sourceGiven, c.Link = "/tmp/x.db", true, "https://v/renouvellement?jeton=x" }), ""},
		{[]string{"--db", "x.db", "--demo"}, nil, config{}, "cannot be used together"},
		{[]string{"--lang", "de"}, nil, config{}, "use fr or en"},
		{[]string{"a", "b"}, nil, config{}, "at most one argument"},
		{[]string{"--nope"}, nil, config{}, "flag provided but not defined"},
		{[]string{"--backend", "https://vote.example"}, nil, with(func(c *config) { c.Backend, c.sourceGiven = "https://vote.example", true }), ""},
		{[]string{"--backend", "https://vote.example", "--db", "x.db"}, nil, config{}, "no --db, --demo or --smtp"},
		{[]string{"--backend", "http://vote.example"}, nil, config{}, "https is required"},
		{[]string{"--backend", "http://127.0.0.1.nip.io"}, nil, config{}, "https is required"},
		{[]string{"--backend", "http://[::1]:8443"}, nil, with(func(c *config) { c.Backend, c.sourceGiven = "http://[::1]:8443", true }), ""},
		{[]string{"--smtp", "mail:25"}, nil, config{}, "--smtp"},
		// Every flag has its twin; the command line wins.
		{nil, map[string]string{"CONSULVOTE_BACKEND": "https://vote.example", "CONSULVOTE_LANG": "en"},
			with(func(c *config) { c.Backend, c.Lang, c.sourceGiven = "https://vote.example", "en", true }), ""},
		{[]string{"--lang", "fr"}, map[string]string{"CONSULVOTE_LANG": "en", "CONSULVOTE_ELECTION": "Juin 2026"},
			with(func(c *config) { c.Demo, c.Lang, c.Election = true, "fr", "Juin 2026" }), ""},
		// The local mode's desk rules and letterhead, checked as read;
		// with --backend they are the server's.
		{[]string{"--contact-approval", "agent", "--change-lifetime", "24h", "--desk-renewals", "10", "--mail-label-en", "Consular elections"}, nil,
			with(func(c *config) {
				c.Demo = true
				c.Rules.ContactApproval, c.Rules.ChangeLifetime, c.Rules.DeskRenewals = "agent", 24*time.Hour, 10
				c.Rules.MailLabel = map[string]string{"en": "Consular elections"}
			}), ""},
		{nil, map[string]string{"CONSULVOTE_DESK_RENEWALS": "0"}, config{}, "CONSULVOTE_DESK_RENEWALS=\"0\": from 1 to 1000 renewals per agent and hour"},
		{[]string{"--change-lifetime", "10m"}, nil, config{}, "from 1h (time for a second agent to approve) to 720h (30 days)"},
		{[]string{"--mail-signature-fr", "a\nb"}, nil, config{}, "one line"},
		{[]string{"--backend", "https://vote.example", "--contact-approval", "agent"}, nil, config{}, "the backend's settings (consulvoted serve)"},
		{[]string{"serve", "--db", "x.db"}, nil, config{}, "consulvoted serve"},
		{[]string{"roll", "import"}, nil, config{}, "command of consulvoted"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := parseFlags(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%v: err = %v, want %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%v: %+v, %v; want %+v", tc.args, got, err, tc.want)
			}
		})
	}
}

// TestSmokeRealWindow starts the built binary in demo mode under X (Xvfb in
// `make test`), waits for its window, takes a screenshot, checks that it is
// not blank, then asks the app to quit and expects a clean exit.
func TestSmokeRealWindow(t *testing.T) {
	// `make smoke` runs it under Xvfb with CONSULVOTE_SMOKE=1, in a session
	// bus of its own: without one, the app would autolaunch a D-Bus daemon
	// that outlives it.
	testenv.Need(t, "CONSULVOTE_SMOKE", []string{"DISPLAY", "DBUS_SESSION_BUS_ADDRESS"}, []string{"xdotool", "import"})
	dir := t.TempDir()
	bin := filepath.Join(dir, "consulvote")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--demo")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})

	var win string
	deadline := time.Now().Add(30 * time.Second)
	for win == "" && time.Now().Before(deadline) {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "consulvote").Output()
		win, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
		if win == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if win == "" {
		t.Fatalf("no window appeared in 30 s; stderr:\n%s", stderr.String())
	}
	// Give the first frame a moment to be painted, then grab the window.
	var colours int
	shot := filepath.Join(dir, "window.png")
	for try := 0; try < 20 && colours < 16; try++ {
		time.Sleep(250 * time.Millisecond)
		if out, err := exec.Command("import", "-window", win, shot).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
		colours = screenshot.Colours(shot)
	}
	if colours < 16 {
		t.Fatalf("the window looks blank (%d colours)", colours)
	}
	if keep := os.Getenv("CONSULVOTE_SMOKE_SHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(keep, b, 0o644)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the app did not quit within 15 s of SIGTERM")
	}
	if s := withoutQuitRace(stderr.String()); strings.Contains(s, "Fyne error") || strings.Contains(s, "panic") {
		t.Errorf("errors on stderr:\n%s", stderr.String())
	}
}

// withoutQuitRace drops the one error Fyne 2.8.1 may log while the app
// quits: the preferences file is saved on exit while Fyne's own watcher of
// that file, now run off the stopped main loop, reads it half-written
// ("Preferences load error:", "Cause: EOF", "At: …"). Nothing is lost: the
// save completes and the load changes nothing. Any other error stays.
func withoutQuitRace(stderr string) string {
	lines := strings.Split(stderr, "\n")
	var kept []string
	for i := 0; i < len(lines); i++ {
		if strings.HasSuffix(lines[i], "Fyne error:  Preferences load error:") && i+2 < len(lines) &&
			strings.HasSuffix(lines[i+1], "Cause: EOF") && strings.Contains(lines[i+2], "/app/preferences.go:") {
			i += 2
			continue
		}
		kept = append(kept, lines[i])
	}
	return strings.Join(kept, "\n")
}

func TestWithoutQuitRace(t *testing.T) {
	race := "2026/11/23 15:20:30 Fyne error:  Preferences load error:\n2026/11/23 15:20:30   Cause: EOF\n2026/11/23 15:20:30   At: /m/fyne.io/fyne/v2@v2.8.1/app/preferences.go:105\n"
	if got := withoutQuitRace(race); strings.Contains(got, "Fyne error") {
		t.Errorf("the quit race is still there: %q", got)
	}
	for _, other := range []string{
		"x Fyne error:  Preferences load error:\nx   Cause: unexpected EOF\nx   At: /m/app/preferences.go:105\n",
		"x Fyne error:  failed to initialise GLFW\nx   Cause: EOF\n",
		race + "x Fyne error:  Failed to create fyne cache space\n",
	} {
		if got := withoutQuitRace(other); !strings.Contains(got, "Fyne error") {
			t.Errorf("%q hidden", other)
		}
	}
}

// TestStoreErrorShown: a local database that cannot be opened is said in
// the window, in the interface's language, with a way out focused, once
// the open that follows the first frame fails (openLocal).
func TestStoreErrorShown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 40), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, title, text, quit string }{
		{"fr", "Les données locales n'ont pas pu être ouvertes", "consulvote ne peut pas fonctionner sans elles. Fichier : " + path, "Quitter"},
		{"en", "The local data could not be opened", "consulvote cannot work without it. File: " + path, "Quit"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.lang); err != nil {
				t.Fatal(err)
			}
			a := test.NewApp()
			defer a.Quit()
			w := a.NewWindow("consulvote")
			src := source{local: backend.NewLater(backend.Config{Database: path, Create: true}), path: path}
			defer src.local.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			openLocal(ctx, ctx, a, w, src, slog.New(slog.DiscardHandler))
			_, err := src.local.Wait(ctx)
			if err == nil {
				t.Fatal("a file that is not a database opened")
			}
			// Shown by a fyne.Do of openLocal's: wait for its last step.
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				var focused fyne.Focusable
				fyne.DoAndWait(func() { focused = w.Canvas().Focused() })
				if focused != nil {
					break
				}
			}
			var texts []string
			var quit *widget.Button
			var walk func(o fyne.CanvasObject)
			walk = func(o fyne.CanvasObject) {
				switch o := o.(type) {
				case *widget.Label:
					texts = append(texts, o.Text)
				case *widget.Button:
					quit = o
				case *fyne.Container:
					for _, c := range o.Objects {
						walk(c)
					}
				}
			}
			var focused fyne.Focusable
			fyne.DoAndWait(func() { walk(w.Content()); focused = w.Canvas().Focused() })
			all := strings.Join(texts, "\n")
			if !strings.Contains(all, tc.title) || !strings.Contains(all, tc.text) || !strings.Contains(all, err.Error()) {
				t.Errorf("the window says %q; want %q, %q and the cause %q", all, tc.title, tc.text, err)
			}
			if quit == nil || quit.Text != tc.quit || focused != quit {
				t.Errorf("no focused %q button: %+v", tc.quit, quit)
			}
		})
	}
}

// TestFirstScreenFontsParsed: every text of the first screen is in a
// style whose fonts ui.ParseFonts parses beside the window's start; a
// style it left out would be parsed before the first frame, 5-10 ms.
// Fyne keeps one entry of parsed fonts per whole TextStyle.
func TestFirstScreenFontsParsed(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	a := test.NewApp()
	defer a.Quit()
	c := defaultConfig()
	c.Demo = true // the banner and the outbox's button too
	log := slog.New(slog.DiscardHandler)
	src, err := choosePortal(c, log)
	if err != nil {
		t.Fatal(err)
	}
	defer src.local.Close()
	win := buildWindow(context.Background(), a, c, src, log, ui.ParseFonts(a))
	parsed := map[fyne.TextStyle]bool{}
	for _, s := range ui.TextStyles() {
		parsed[s] = true
	}
	texts := 0
	fyne.DoAndWait(func() {
		for _, o := range test.LaidOutObjects(win.w.Content()) {
			if text, ok := o.(*canvas.Text); ok && text.Visible() && text.Text != "" {
				texts++
				if !parsed[text.TextStyle] {
					t.Errorf("%q is drawn in %+v, which ui.ParseFonts does not parse", text.Text, text.TextStyle)
				}
			}
		}
	})
	if texts < 10 {
		t.Errorf("%d texts on the first screen: the walk missed them", texts)
	}
}
