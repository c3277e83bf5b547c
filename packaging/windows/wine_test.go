//go:build linux

// Package windows holds the Windows installer (consulvote.nsi) and its test:
// the packaged executable and installer of `make package-windows`, for real
// under Wine and Xvfb, in a Wine prefix of the test's own.
package windows

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"consulvote/internal/screenshot"
)

// user is the Windows account of the test: spaces and accents in the
// profile path (C:\users\Hélène Dupont) are what breaks naive path code.
const user = "Hélène Dupont"

// wineEnv is one private Wine prefix and the packaged files under test.
type wineEnv struct {
	t      *testing.T
	dir    string // the test's temporary folder
	prefix string // WINEPREFIX, inside dir
	pkg    string // the folder with consulvote.exe and consulvote-setup.exe
}

func requireWine(t *testing.T) *wineEnv {
	t.Helper()
	if os.Getenv("CONSULVOTE_WINE") != "1" {
		t.Skip("needs Wine, Xvfb and the Windows package: `make test-windows` runs it (CONSULVOTE_WINE=1)")
	}
	for _, tool := range []string{"wine", "wineserver", "xdotool", "import", "x86_64-w64-mingw32-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("CONSULVOTE_WINE=1 but %s is missing: %v", tool, err)
		}
	}
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("CONSULVOTE_WINE=1 but no DISPLAY: run under xvfb-run")
	}
	pkg := os.Getenv("CONSULVOTE_WINDOWS_DIR")
	for _, f := range []string{"consulvote.exe", "consulvote-setup.exe"} {
		if _, err := os.Stat(filepath.Join(pkg, f)); err != nil {
			t.Fatalf("CONSULVOTE_WINDOWS_DIR=%q: %v (run `make package-windows`)", pkg, err)
		}
	}
	dir := t.TempDir()
	return &wineEnv{t: t, dir: dir, prefix: filepath.Join(dir, "prefix"), pkg: pkg}
}

// env is the environment of every Wine command: the private prefix, the
// user's name, the Windows locale from locale (fr_FR.UTF-8, en_GB.UTF-8,
// compiled by boot into LOCPATH: without a real host locale Wine hands
// Windows a user name with its accents stripped), no Mono or Gecko
// download, no menu entries written to the real desktop, and the UI
// Automation shim (see boot).
func (w *wineEnv) env(locale string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "WINEPREFIX", "USER", "LOGNAME", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "WINEDEBUG", "WINEDLLOVERRIDES":
		default:
			env = append(env, kv)
		}
	}
	return append(env, "WINEPREFIX="+w.prefix, "USER="+user, "LOGNAME="+user, "HOME="+filepath.Join(w.dir, "home"),
		"LOCPATH="+filepath.Join(w.dir, "locale"), "LC_ALL="+locale, "WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml,winemenubuilder.exe=d;uiautomationcore=n")
}

// waitDelay bounds the wait for a Wine command's output once it has
// ended or been killed: the processes it started in the prefix hold its
// pipes open (without it, a test that failed hung in its cleanup).
const waitDelay = 10 * time.Second

// run runs a Wine command to its end, within limit.
func (w *wineEnv) run(limit time.Duration, locale string, args ...string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env, cmd.WaitDelay = w.env(locale), waitDelay
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// settle waits until every process of the prefix has ended.
func (w *wineEnv) settle(limit time.Duration) {
	w.t.Helper()
	w.run(limit, "C.UTF-8", "wineserver", "-w")
}

// drive is C: of the prefix; profile is the user's folder in it.
func (w *wineEnv) drive() string   { return filepath.Join(w.prefix, "drive_c") }
func (w *wineEnv) profile() string { return filepath.Join(w.drive(), "users", user) }

// boot compiles the host locales the test uses, makes the prefix, and puts
// in it two shims for what Wine 8.0 (Debian 12) lacks, built from
// scripts/wine/ with mingw-w64: ProcessPrng, which every Go program needs
// at start, and the UI Automation calls of Fyne's screen-reader bridge,
// done as nothing. They live in this prefix only, never in the package.
func (w *wineEnv) boot() {
	w.t.Helper()
	if err := os.MkdirAll(filepath.Join(w.dir, "locale"), 0o755); err != nil {
		w.t.Fatal(err)
	}
	for _, l := range []struct{ name, source string }{{"fr_FR.UTF-8", "fr_FR"}, {"en_GB.UTF-8", "en_GB"}} {
		out, err := exec.Command("localedef", "-i", l.source, "-f", "UTF-8", filepath.Join(w.dir, "locale", l.name)).CombinedOutput()
		if err != nil {
			w.t.Fatalf("localedef %s: %v\n%s", l.name, err, out)
		}
	}
	// Wine's processes outlive the test's commands: end them before the
	// temporary folder goes.
	w.t.Cleanup(func() {
		cmd := exec.Command("wineserver", "-k")
		cmd.Env = w.env("C.UTF-8")
		cmd.Run()
		exec.Command("wineserver", "-w").Run()
	})
	w.run(3*time.Minute, "fr_FR.UTF-8", "wineboot", "--init")
	w.settle(2 * time.Minute)
	users, _ := os.ReadDir(filepath.Join(w.drive(), "users"))
	var names []string
	for _, u := range users {
		names = append(names, u.Name())
	}
	if strings.Join(names, ",") != user+",Public" {
		w.t.Fatalf("Windows profiles %q, want Public and %q", names, user)
	}
	system32 := filepath.Join(w.drive(), "windows", "system32")
	for _, shim := range []struct{ dll, source, lib string }{
		{"bcryptprimitives.dll", "processprng.c", "-ladvapi32"},
		{"uiautomationcore.dll", "uiautomationcore.c", ""},
	} {
		args := []string{"-O2", "-shared", "-s", "-o", filepath.Join(system32, shim.dll), filepath.Join("..", "..", "scripts", "wine", shim.source)}
		if shim.lib != "" {
			args = append(args, shim.lib)
		}
		if out, err := exec.Command("x86_64-w64-mingw32-gcc", args...).CombinedOutput(); err != nil {
			w.t.Fatalf("building the %s shim: %v\n%s", shim.dll, err, out)
		}
	}
}

// regValues reads the values of a registry key (nil when it is absent)
// from Wine's `reg export`, which writes UTF-16: reg query's console
// output is in the OEM code page, which mangles the accented user name.
func (w *wineEnv) regValues(key string) map[string]string {
	w.t.Helper()
	file := filepath.Join(w.dir, "export.reg")
	os.Remove(file)
	cmd := exec.Command("wine", "reg", "export", key, `Z:`+strings.ReplaceAll(file, "/", `\`))
	cmd.Env = w.env("C.UTF-8")
	if err := cmd.Run(); err != nil {
		return nil
	}
	raw, err := os.ReadFile(file)
	if err != nil || len(raw) < 2 || raw[0] != 0xff || raw[1] != 0xfe {
		w.t.Fatalf("reg export %s: %v, % x", key, err, raw[:min(len(raw), 4)])
	}
	u := make([]uint16, 0, len(raw)/2)
	for i := 2; i+1 < len(raw); i += 2 {
		u = append(u, uint16(raw[i])|uint16(raw[i+1])<<8)
	}
	values := map[string]string{}
	inKey := false
	for _, line := range strings.Split(strings.ReplaceAll(string(utf16.Decode(u)), "\r", ""), "\n") {
		if strings.HasPrefix(line, "[") {
			inKey = strings.EqualFold(strings.Trim(line, "[]"), strings.Replace(key, "HKCU", "HKEY_CURRENT_USER", 1))
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !inKey || !ok {
			continue
		}
		if name == "@" {
			name = ""
		}
		values[unquote(name)] = unquote(value)
	}
	return values
}

// unquote undoes a .reg file's "…" with \\ and \".
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(s[1 : len(s)-1])
}

// window is a running app under Wine.
type window struct {
	w     *wineEnv
	cmd   *exec.Cmd
	out   *bytes.Buffer
	id    string // the X window
	start time.Time
	frame time.Duration // from start to the first painted frame
}

// launch starts a Windows program (args[0] is wine or a Windows path run
// through it) and waits for its painted window, titled "… – consulvote".
func (w *wineEnv) launch(locale string, args ...string) *window {
	w.t.Helper()
	a := &window{w: w, out: &bytes.Buffer{}, start: time.Now()}
	a.cmd = exec.Command(args[0], args[1:]...)
	a.cmd.Env, a.cmd.WaitDelay = w.env(locale), waitDelay
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { a.cmd.Process.Kill(); a.cmd.Wait() })
	shot := filepath.Join(w.dir, "frame.png")
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", " – consulvote$").Output()
		id, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if id != "" && exec.Command("import", "-window", id, shot).Run() == nil && screenshot.Colours(shot) >= 16 {
			a.id, a.frame = id, time.Since(a.start)
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s: no painted window within 90 s; output:\n%s", strings.Join(args, " "), a.out)
	return nil
}

func (a *window) title() string {
	out, _ := exec.Command("xdotool", "getwindowname", a.id).Output()
	return strings.TrimSpace(string(out))
}

// waitTitle waits until the window's title is page + " – consulvote".
func (a *window) waitTitle(page string) {
	a.w.t.Helper()
	want := page + " – consulvote"
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if a.title() == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.shot("wrong-page")
	a.w.t.Fatalf("window title %q, want %q; output:\n%s", a.title(), want, a.out)
}

// keys types on the keyboard into the window, as a voter would.
func (a *window) keys(args ...string) {
	a.w.t.Helper()
	full := append([]string{"windowfocus", "--sync", a.id}, args...)
	if out, err := exec.Command("xdotool", full...).CombinedOutput(); err != nil {
		a.w.t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
	time.Sleep(150 * time.Millisecond)
}

// shot keeps a screenshot of the window when CONSULVOTE_WINE_SHOTS names
// a folder (for a person to look at).
func (a *window) shot(name string) {
	if dir := os.Getenv("CONSULVOTE_WINE_SHOTS"); dir != "" {
		time.Sleep(500 * time.Millisecond) // the title changes a frame before the content
		exec.Command("import", "-window", a.id, filepath.Join(dir, name+".png")).Run()
	}
}

// close asks the app to quit as Windows does (WM_CLOSE) and waits for it.
func (a *window) close() {
	a.w.t.Helper()
	a.w.run(30*time.Second, "C.UTF-8", "wine", "taskkill", "/im", "consulvote.exe")
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		a.w.t.Fatalf("the app did not quit within 30 s of WM_CLOSE; output:\n%s", a.out)
	}
	if s := a.out.String(); strings.Contains(s, "panic") {
		a.w.t.Errorf("the app panicked:\n%s", s)
	}
	a.w.settle(time.Minute)
}

// utf16Contains says whether b holds s in UTF-16LE, as .lnk files keep
// their strings.
func utf16Contains(b []byte, s string) bool {
	var enc []byte
	for _, u := range utf16.Encode([]rune(s)) {
		enc = append(enc, byte(u), byte(u>>8))
	}
	return bytes.Contains(b, enc)
}

// goWindows starts `go build` or `go test -c` for Windows, without cgo,
// and returns the wait for it, which ends t if it failed: TestWine starts
// them all while Wine boots.
func goWindows(t *testing.T, args ...string) (wait func(t *testing.T)) {
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		defer close(done)
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		out, err = cmd.CombinedOutput()
	}()
	t.Cleanup(func() { <-done }) // before its folder goes
	return func(t *testing.T) {
		t.Helper()
		<-done
		if err != nil {
			t.Fatalf("go %v for Windows: %v\n%s", args, err, out)
		}
	}
}

// TestWine installs the package in a fresh prefix, as the voter
// "Hélène Dupont", and uses it: the app, its data folder, its language,
// the keychain, the consulvote:// scheme, then uninstalls it.
func TestWine(t *testing.T) {
	w := requireWine(t)
	peek := filepath.Join(w.dir, "peek.exe")
	resourcesTest := filepath.Join(w.dir, "resources.test.exe")
	instanceTest := filepath.Join(w.dir, "instance.test.exe")
	keychainTest := filepath.Join(w.dir, "keychain.test.exe")
	peekBuilt := goWindows(t, "build", "-o", peek, "../../testdata/peek")
	resourcesBuilt := goWindows(t, "test", "-c", "-o", resourcesTest, "../../resources")
	instanceBuilt := goWindows(t, "test", "-c", "-o", instanceTest, "../../internal/instance")
	keychainBuilt := goWindows(t, "test", "-c", "-o", keychainTest, "../../app/keychain")
	w.boot()

	programs := filepath.Join(w.profile(), "AppData", "Local", "Programs", "consulvote")
	exe := filepath.Join(programs, "consulvote.exe")
	shortcut := filepath.Join(w.profile(), "AppData", "Roaming", "Microsoft", "Windows", "Start Menu", "Programs", "consulvote.lnk")
	data := filepath.Join(w.profile(), "AppData", "Roaming", "consulvote")
	winDB := `C:\users\` + user + `\AppData\Roaming\consulvote\demo.db`

	// Each step fails its own subtest: the helpers report through w.t.
	step := func(name string, f func(t *testing.T)) {
		parent := w.t
		t.Run(name, func(t *testing.T) { w.t = t; f(t) })
		w.t = parent
	}
	install := func(locale string) {
		t.Helper()
		w.run(2*time.Minute, locale, "wine", filepath.Join(w.pkg, "consulvote-setup.exe"), "/S")
		w.settle(time.Minute)
	}

	step("install", func(t *testing.T) {
		install("fr_FR.UTF-8")
		for _, f := range []string{exe, filepath.Join(programs, "uninstall.exe"), shortcut} {
			if _, err := os.Stat(f); err != nil {
				t.Fatalf("installed per user: %v", err)
			}
		}
		lnk, _ := os.ReadFile(shortcut)
		if !utf16Contains(lnk, "Portail de vote par Internet") {
			t.Errorf("the Start-menu shortcut is not in French under a French Windows")
		}
		want := `"C:\users\` + user + `\AppData\Local\Programs\consulvote\consulvote.exe" "%1"`
		if got := w.regValues(`HKCU\Software\Classes\consulvote\shell\open\command`)[""]; got != want {
			t.Errorf("consulvote:// opens %q, want %q", got, want)
		}
		if _, ok := w.regValues(`HKCU\Software\Classes\consulvote`)["URL Protocol"]; !ok {
			t.Errorf("consulvote is not marked as a URL protocol")
		}
		if got := w.regValues(`HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\consulvote`)["UninstallString"]; !strings.HasSuffix(got, `\uninstall.exe"`) {
			t.Errorf("no uninstaller listed in Apps: %q", got)
		}
	})

	// The app as installed, in French from the Windows locale; its demo
	// database lands in %APPDATA% of the accented user name.
	var token string
	step("voter's flow", func(t *testing.T) {
		peekBuilt(t)

		app := w.launch("fr_FR.UTF-8", "wine", exe)
		t.Logf("under Wine: first painted frame %d ms after start", app.frame.Milliseconds())
		app.shot("home-fr")
		app.waitTitle("Accueil")
		if _, err := os.Stat(filepath.Join(data, "demo.db")); err != nil {
			t.Fatalf("demo database in %%APPDATA%%: %v", err)
		}

		// From the home page to "Envoyé !", by keyboard: Tab to "Identifiant
		// perdu ou non reçu", Space; NUMIC, Tab, e-mail, Tab past "Nouveau
		// code" and "Écouter le code", the code, Enter.
		app.keys("key", "Tab", "key", "space")
		app.waitTitle("Renouvellement de votre identifiant")
		app.shot("request")
		digits := strings.TrimSpace(w.run(time.Minute, "C.UTF-8", "wine", peek, "code", winDB))
		app.keys("type", "--delay", "60", "00012345")
		app.keys("key", "Tab")
		app.keys("type", "--delay", "60", "marie.dupont@example.org")
		app.keys("key", "Tab", "key", "Tab", "key", "Tab")
		app.keys("type", "--delay", "60", digits)
		app.keys("key", "Return")
		app.waitTitle("Envoyé !")
		app.shot("sent")
		link := strings.TrimSpace(w.run(time.Minute, "C.UTF-8", "wine", peek, "link", winDB))
		token = link[strings.LastIndex(link, "=")+1:]
		app.close()
	})

	step("English from the Windows locale", func(t *testing.T) {
		app := w.launch("en_GB.UTF-8", "wine", exe)
		app.waitTitle("Home")
		app.shot("home-en")
		app.close()
	})

	// The language comes from Windows' settings, which Fyne reads, not
	// from variables of the environment (set here to the other language,
	// which Wine passes on: the test would tell them apart); and a
	// language chosen in the app wins over Windows' (resources' tests).
	step("language from the Windows settings", func(t *testing.T) {
		resourcesBuilt(t)
		for _, l := range []struct{ locale, want, other string }{{"fr_FR.UTF-8", "fr", "en"}, {"en_GB.UTF-8", "en", "fr"}} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			cmd := exec.CommandContext(ctx, "wine", resourcesTest, "-test.v")
			cmd.Env = append(w.env(l.locale), "LANGUAGE="+l.other, "CONSULVOTE_SYSTEM_LANGUAGE="+l.want)
			cmd.Dir = filepath.Join("..", "..", "resources")
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestSystemLanguage") || !strings.Contains(string(out), "--- PASS: TestLoadTranslations") {
				t.Errorf("resources under a Windows in %s: %v\n%s", l.locale, err, out)
			}
		}
	})

	// The link's consulvote:// form, opened as Windows' shell opens it for
	// a browser: the command registered for the scheme, with %1 the link.
	// (Wine 8 does not merge HKCU\Software\Classes into HKEY_CLASSES_ROOT
	// as Windows does, so its ShellExecute cannot find a per-user scheme:
	// the test reads the registered command and runs it.) The app starts on
	// the link's page (E5); twice: opening consumes nothing.
	step("consulvote scheme", func(t *testing.T) {
		if token == "" {
			t.Fatal("no link: the voter's flow failed")
		}
		command := w.regValues(`HKCU\Software\Classes\consulvote\shell\open\command`)[""]
		parts := regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(command, -1)
		if len(parts) != 2 || parts[1][1] != "%1" {
			t.Fatalf("registered command %q: want \"…\\consulvote.exe\" \"%%1\"", command)
		}
		for range 2 {
			app := w.launch("fr_FR.UTF-8", "wine", parts[0][1], "consulvote://renouvellement?jeton="+token)
			app.waitTitle("Renouvellement de votre identifiant")
			app.shot("link")
			app.close()
		}

		// A link clicked while the app runs: the process the shell starts
		// hands it to the running app and exits; the running app's
		// window shows the link's page. One window all along.
		app := w.launch("fr_FR.UTF-8", "wine", parts[0][1])
		app.waitTitle("Accueil")
		start := time.Now()
		w.run(time.Minute, "fr_FR.UTF-8", "wine", parts[0][1], "consulvote://renouvellement?jeton="+token)
		t.Logf("the second start handed the link over and exited after %d ms", time.Since(start).Milliseconds())
		app.waitTitle("Renouvellement de votre identifiant")
		app.shot("handed-over")
		if out, _ := exec.Command("xdotool", "search", "--name", " – consulvote$").Output(); len(strings.Fields(string(out))) != 1 {
			t.Errorf("windows of consulvote: %q, want one", out)
		}
		app.close()
	})

	// The single-instance handoff's own tests (wrong token, a crashed
	// app's files, starts at once as processes), on Windows' file locks.
	step("single instance", func(t *testing.T) {
		instanceBuilt(t)
		out := w.run(3*time.Minute, "fr_FR.UTF-8", "wine", instanceTest, "-test.v")
		if !strings.Contains(out, "--- PASS: TestConcurrentStarts") || strings.Contains(out, "FAIL") || strings.Contains(out, "SKIP") {
			t.Fatalf("internal/instance under Wine:\n%s", out)
		}
	})

	step("keychain", func(t *testing.T) {
		keychainBuilt(t)
		out := w.run(2*time.Minute, "fr_FR.UTF-8", "wine", keychainTest, "-test.run", "^TestRealCredentialManager$", "-test.v")
		if !strings.Contains(out, "--- PASS: TestRealCredentialManager") {
			t.Fatalf("Credential Manager under Wine:\n%s", out)
		}
	})

	step("English installer and uninstall", func(t *testing.T) {
		w.run(2*time.Minute, "en_GB.UTF-8", "wine", filepath.Join(programs, "uninstall.exe"), "/S")
		w.settle(time.Minute)
		install("en_GB.UTF-8")
		lnk, _ := os.ReadFile(shortcut)
		if !utf16Contains(lnk, "Internet voting portal") {
			t.Errorf("the Start-menu shortcut is not in English under an English Windows")
		}
		w.run(2*time.Minute, "en_GB.UTF-8", "wine", filepath.Join(programs, "uninstall.exe"), "/S")
		w.settle(time.Minute)
		for _, f := range []string{exe, shortcut} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%s is still there after uninstall", f)
			}
		}
		if got := w.regValues(`HKCU\Software\Classes\consulvote`); got != nil {
			t.Errorf("consulvote:// still registered after uninstall: %q", got)
		}
		if _, err := os.Stat(filepath.Join(data, "demo.db")); err != nil {
			t.Errorf("the voter's data went with the uninstall: %v", err)
		}
	})
}
