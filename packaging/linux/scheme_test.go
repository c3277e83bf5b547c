//go:build linux

// Package linux tests the Linux package of `make package` as a user gets it:
// installed by its own Makefile into a private home, then opened from a
// consulvote:// link through xdg-open and the installed .desktop file.
package linux

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"consulvote/app/backend"
	"consulvote/app/portal"
)

func TestSchemeHandler(t *testing.T) {
	if os.Getenv("CONSULVOTE_XDG") != "1" {
		t.Skip("needs the package, xdg-open and X: `make test-scheme` runs it (CONSULVOTE_XDG=1)")
	}
	for _, tool := range []string{"xdg-open", "xdg-mime", "update-desktop-database", "xdotool", "make", "tar", "dbus-run-session"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("CONSULVOTE_XDG=1 but %s is missing: %v", tool, err)
		}
	}
	tarball, err := filepath.Abs(os.Getenv("CONSULVOTE_TARBALL"))
	if err != nil || os.Getenv("DISPLAY") == "" {
		t.Fatalf("CONSULVOTE_TARBALL=%q, DISPLAY=%q: run `make test-scheme`", tarball, os.Getenv("DISPLAY"))
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "hélène") // Linux user names have no spaces; accents, some
	env := []string{"PATH=" + os.Getenv("PATH"), "DISPLAY=" + os.Getenv("DISPLAY"), "HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"), "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_DIRS=" + filepath.Join(dir, "system"), "XDG_CONFIG_DIRS=" + filepath.Join(dir, "system"), "LANG=C.UTF-8"}
	if x := os.Getenv("XAUTHORITY"); x != "" {
		env = append(env, "XAUTHORITY="+x)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env, cmd.Dir = env, dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}

	// Installed as the package says: its Makefile's user-install.
	run("tar", "-xJf", tarball)
	run("make", "-C", "consulvote", "user-install")
	if got := strings.TrimSpace(run("xdg-mime", "query", "default", "x-scheme-handler/consulvote")); got != "fr.consulvote.portal.desktop" {
		t.Fatalf("x-scheme-handler/consulvote is handled by %q", got)
	}

	// A real pending link in the demonstration database the app will open.
	db := filepath.Join(home, ".local", "share", "consulvote", "demo.db")
	link := pendingLink(t, db)
	token, err := portal.ParseLinkToken(link)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ link, page string }{
		{portal.AppLinkURL(token), "Renouvellement de votre identifiant"},
		{portal.AppLinkURL(token), "Renouvellement de votre identifiant"}, // opening consumed nothing
		{portal.AppLinkURL(strings.Repeat("A", len(token)-1) + "Q"), "J'ai reçu le courriel"},
	} {
		// xdg-open runs the handler and returns when it exits; in a
		// session bus of its own, as a desktop has one (without it, the
		// app would autolaunch a D-Bus daemon through X that outlives it).
		open := exec.Command("dbus-run-session", "--", "xdg-open", tc.link)
		var openOut bytes.Buffer
		open.Env, open.Dir, open.Stdout, open.Stderr = env, dir, &openOut, &openOut
		if err := open.Start(); err != nil {
			t.Fatal(err)
		}
		opened := make(chan error, 1)
		go func() { opened <- open.Wait() }()
		// xdg-open returns when the app it started quits.
		if err := quit(t, waitWindow(t, tc.page+" – consulvote"), opened); err != nil {
			t.Fatalf("xdg-open %s: %v\n%s", tc.link, err, openOut.String())
		}
	}

	// A link clicked while the app runs: the process xdg-open starts hands
	// the link to the running app and exits; the running app's window
	// shows the link's page. One window all along.
	app := exec.Command("dbus-run-session", "--", filepath.Join(home, ".local", "bin", "consulvote"))
	var appOut bytes.Buffer
	app.Env, app.Dir, app.Stdout, app.Stderr = env, dir, &appOut, &appOut
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	appExited := make(chan error, 1)
	go func() { appExited <- app.Wait() }()
	defer func() {
		select {
		case <-appExited:
		default:
			app.Process.Kill()
		}
	}()
	win := waitWindow(t, "Accueil – consulvote")
	start := time.Now()
	open := exec.Command("dbus-run-session", "--", "xdg-open", portal.AppLinkURL(token))
	open.Env, open.Dir = env, dir
	if out, err := open.CombinedOutput(); err != nil {
		t.Fatalf("xdg-open while the app runs: %v\n%s", err, out)
	}
	t.Logf("the second start handed the link over and exited: xdg-open returned after %d ms", time.Since(start).Milliseconds())
	if got := waitWindow(t, "Renouvellement de votre identifiant – consulvote"); got != win {
		t.Errorf("the link opened in window %s, not in the running app's %s", got, win)
	}
	if out, _ := exec.Command("xdotool", "search", "--name", "consulvote$").Output(); len(strings.Fields(string(out))) != 1 {
		t.Errorf("windows of consulvote: %q, want one", out)
	}
	if err := quit(t, win, appExited); err != nil {
		t.Errorf("the app: %v\n%s", err, appOut.String())
	}
}

// quit asks the process of window win to quit (SIGTERM) and returns what
// exited reports once it has, within 20 s.
func quit(t *testing.T, win string, exited <-chan error) error {
	t.Helper()
	out, _ := exec.Command("xdotool", "getwindowpid", win).Output()
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("pid of window %s: %q", win, out)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		return err
	case <-time.After(20 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the app (pid %d) did not quit within 20 s of SIGTERM", pid)
		return nil
	}
}

// pendingLink seeds the demonstration database as the app does and asks
// for a renewal of Marie Dupont's identifier, as the voter would; it
// returns the link of the e-mail.
func pendingLink(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{Database: db, Create: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	code, err := b.Service.Portal.NewSecurityCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	peek := func(what string) string {
		out, err := exec.Command("go", "run", "../../testdata/peek", what, db).CombinedOutput()
		if err != nil {
			t.Fatalf("peek %s: %v\n%s", what, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	digits := peek("code")
	b, err = backend.Open(ctx, backend.Config{Database: db})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Service.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{
		NUMIC: "00012345", Email: "marie.dupont@example.org", CodeID: code.ID, Code: digits})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	return peek("link")
}

func waitWindow(t *testing.T, title string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "consulvote$").Output()
		for _, id := range strings.Fields(string(out)) {
			name, _ := exec.Command("xdotool", "getwindowname", id).Output()
			if strings.TrimSpace(string(name)) == title {
				return id
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no window titled %q within 60 s", title)
	return ""
}
