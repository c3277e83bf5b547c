package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"consulvote/internal/testenv"
)

const (
	unitFile = "../../deploy/consulvoted.service"
	envFile  = "../../deploy/consulvoted.env"
)

// unitRoot builds a root for systemd-analyze --root: the system's own
// units (targets the unit depends on), the unit, and consulvoted built
// where the unit runs it. mutate, when set, changes the unit's text.
func unitRoot(t *testing.T, bin string, mutate func(string) string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"usr/local/bin", "usr/lib/systemd", "etc/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
		t.Fatalf("copy the system's units: %v %s", err, out)
	}
	os.Symlink("usr/lib", filepath.Join(root, "lib"))
	if out, err := exec.Command("cp", bin, filepath.Join(root, "usr/local/bin/consulvoted")).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	if mutate != nil {
		text = mutate(text)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/system/consulvoted.service"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func analyze(root string, args ...string) (string, error) {
	cmd := exec.Command("systemd-analyze", append(args, "--root="+root, "/etc/systemd/system/consulvoted.service")...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSystemdUnit: deploy/consulvoted.service passes `systemd-analyze
// verify` without a word (a misspelt or unknown setting is only a
// warning there, so any output fails), scores 2.0 or less ("OK") in
// `systemd-analyze security`, has the hardening docs/operations.md promises, and
// its command line is one `consulvoted serve` accepts with the example
// settings of deploy/consulvoted.env.
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		testenv.Need(t, "CONSULVOTE_SYSTEMD", nil, []string{"systemd-analyze"})
	}
	bin := build(t)

	root := unitRoot(t, bin, nil)
	if out, err := analyze(root, "verify", "--man=no"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The check can fail: a misspelt setting and a missing program do.
	bad := unitRoot(t, bin, func(s string) string { return strings.Replace(s, "ProtectSystem=strict", "ProtectSytem=strict", 1) })
	if out, _ := analyze(bad, "verify", "--man=no"); !strings.Contains(out, "ProtectSytem") {
		t.Errorf("verify did not see a misspelt setting: %s", out)
	}
	gone := unitRoot(t, bin, func(s string) string {
		return strings.ReplaceAll(s, "/usr/local/bin/consulvoted", "/usr/local/bin/nothing")
	})
	if out, err := analyze(gone, "verify", "--man=no"); err == nil {
		t.Errorf("verify passed a unit whose program is missing: %s", out)
	}

	out, err := analyze(root, "security", "--offline=yes", "--threshold=20", "--no-pager")
	m := regexp.MustCompile(`Overall exposure level for consulvoted.service: ([0-9.]+)`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 {
		t.Errorf("exposure %v, want at most 2.0", score)
	}
	t.Logf("systemd-analyze security: exposure %s", m[1])

	settings := unitSettings(t)
	for k, want := range map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "StateDirectory": "consulvote", "StateDirectoryMode": "0700",
		"Restart": "on-failure", "CapabilityBoundingSet": "", "UMask": "0077", "KillSignal": "SIGTERM",
		"MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
	} {
		if got, ok := settings[k]; !ok || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	stop, err := time.ParseDuration(settings["TimeoutStopSec"][0])
	if err != nil || stop <= defaultServe().StopTimeout {
		t.Errorf("TimeoutStopSec=%v: must leave serve's --stop-timeout (%v) the time to drain", settings["TimeoutStopSec"], defaultServe().StopTimeout)
	}

	// The command line, with the specifiers as systemd fills them and the
	// example settings: serve accepts it.
	cmdline := strings.Fields(settings["ExecStart"][0])
	if cmdline[0] != "/usr/local/bin/consulvoted" || cmdline[1] != "serve" {
		t.Fatalf("ExecStart=%v", cmdline)
	}
	state, creds := t.TempDir(), t.TempDir()
	for i, a := range cmdline {
		cmdline[i] = strings.NewReplacer("%S", state, "%d", creds).Replace(a)
	}
	for k, v := range envSettings(t) {
		t.Setenv(k, v)
	}
	c, err := parseServe(cmdline[2:])
	if err != nil {
		t.Fatalf("serve refuses the unit's command line with deploy/consulvoted.env: %v", err)
	}
	if c.Backend.Database != filepath.Join(state, "consulvote", "portal.db") || c.TLSKey != filepath.Join(creds, "tls.key") ||
		c.MetricsListen == "" || c.OfficeListen == "" || c.Backend.SMTP == "" {
		t.Errorf("serve read %+v", c)
	}
}

// unitSettings reads the unit's Key=Value lines, each key's values in
// order.
func unitSettings(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// envSettings reads an EnvironmentFile as systemd does for these lines:
// KEY=VALUE, the value's surrounding double quotes removed.
func envSettings(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
				v = uq
			}
			m[k] = v
		}
	}
	return m
}
