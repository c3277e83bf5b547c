package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"consulvote/app/backend"
	"consulvote/internal/envflag"
	"consulvote/internal/testcert"
)

// parseServe parses serve's flags and checks the result, as the command
// does before it opens anything.
func parseServe(args []string) (serveConfig, error) {
	c := defaultServe()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.flags(fs)
	if err := envflag.Parse(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, &usageError{"unexpected arguments"}
	}
	return c, c.Validate()
}

// daemon is consulvoted as the package's process tests run it, built once
// (TestMain removes its folder).
var daemon struct {
	once     sync.Once
	dir, bin string
	err      error
}

// build builds consulvoted without cgo, as `make build` does, once for
// the package's tests, and checks that the result is a static
// executable: no interpreter, no shared library to find on the server.
func build(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("consulvoted is a Linux server: its process tests (a static ELF, SIGTERM) run on Linux")
	}
	daemon.once.Do(func() { daemon.dir, daemon.bin, daemon.err = buildStatic() })
	if daemon.err != nil {
		t.Fatal(daemon.err)
	}
	return daemon.bin
}

func buildStatic() (dir, bin string, err error) {
	if dir, err = os.MkdirTemp("", "consulvoted-bin"); err != nil {
		return "", "", err
	}
	bin = filepath.Join(dir, "consulvoted")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, "", fmt.Errorf("build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		return dir, "", err
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return dir, "", err
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return dir, "", fmt.Errorf("consulvoted is dynamically linked (program header %v)", p.Type)
		}
	}
	if len(libs) > 0 {
		return dir, "", fmt.Errorf("consulvoted needs shared libraries: %v", libs)
	}
	return dir, bin, nil
}

func TestParseServe(t *testing.T) {
	base := []string{"--db", "/tmp/x.db", "--public-url", "https://vote.example"}
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		setting string // "" when valid
	}{
		{append(base, "--insecure-loopback"), nil, ""},
		{append(base, "--tls-cert", "c.pem", "--tls-key", "k.pem", "--listen", "0.0.0.0:443"), nil, ""},
		{[]string{"--public-url", "https://v.example", "--insecure-loopback"}, nil, "db"},
		{base, nil, "tls-cert"},
		{append(base, "--tls-cert", "c.pem"), nil, "tls-cert/--tls-key"},
		{append(base, "--insecure-loopback", "--listen", "0.0.0.0:80"), nil, "insecure-loopback"},
		{append(base, "--insecure-loopback", "--listen", "nope"), nil, "listen"},
		{[]string{"--db", "x.db", "--insecure-loopback"}, nil, "public-url"},
		{append(base, "--insecure-loopback", "--smtp", "mail.example:25"), nil, "smtp"},
		{append(base, "--insecure-loopback", "--smtp", "smtp://mail.example:25"), nil, "from"},
		{append(base, "--insecure-loopback", "--sms-gateway", "http://gw.example/send"), nil, "sms-gateway"},
		{nil, map[string]string{"CONSULVOTE_DB": "/tmp/y.db", "CONSULVOTE_PUBLIC_URL": "https://v.example", "CONSULVOTE_INSECURE_LOOPBACK": "true"}, ""},
		{[]string{"--db", "/tmp/z.db"}, map[string]string{"CONSULVOTE_PUBLIC_URL": "https://v.example", "CONSULVOTE_LISTEN": "[::1]:9000", "CONSULVOTE_INSECURE_LOOPBACK": "true"}, ""},
		// --per-client has its twin, like every flag.
		{append(base, "--insecure-loopback"), map[string]string{"CONSULVOTE_PER_CLIENT": "-1"}, ""},
		// A host that merely begins with "127." is not loopback.
		{append(base, "--insecure-loopback", "--sms-gateway", "http://127.0.0.1.nip.io/send"), nil, "sms-gateway"},
		{append(base, "--insecure-loopback", "--sms-gateway", "http://127.0.0.1:9/send"), nil, ""},
		{append(base, "--insecure-loopback", "--listen", "127.0.0.1.nip.io:80"), nil, "insecure-loopback"},
		{append(base, "--insecure-loopback", "--contact-approval", "agent"), nil, ""},
		// The desk's rules are checked as they are read: "flag:" names
		// what the error must quote (the flag package's or the twin's
		// message; the command exits 2 with it).
		{append(base, "--insecure-loopback"), map[string]string{"CONSULVOTE_CONTACT_APPROVAL": "anyone"}, "flag:CONSULVOTE_CONTACT_APPROVAL=\"anyone\": admin (an administrator approves) or agent"},
		{append(base, "--insecure-loopback", "--change-lifetime", "72h", "--desk-renewals", "120"), nil, ""},
		{append(base, "--insecure-loopback"), map[string]string{"CONSULVOTE_CHANGE_LIFETIME": "1h", "CONSULVOTE_DESK_RENEWALS": "1"}, ""},
		{append(base, "--insecure-loopback", "--change-lifetime", "30m"), nil, "flag:-change-lifetime: from 1h (time for a second agent to approve) to 720h (30 days)"},
		{append(base, "--insecure-loopback", "--change-lifetime", "0"), nil, "flag:-change-lifetime: from 1h"},
		{append(base, "--insecure-loopback", "--change-lifetime", "721h"), nil, "flag:-change-lifetime: from 1h"},
		{append(base, "--insecure-loopback", "--change-lifetime", "2d"), nil, "flag:-change-lifetime: not a duration: e.g. 48h or 90m"},
		{append(base, "--insecure-loopback", "--desk-renewals", "0"), nil, "flag:-desk-renewals: from 1 to 1000 renewals per agent and hour"},
		{append(base, "--insecure-loopback"), map[string]string{"CONSULVOTE_DESK_RENEWALS": "1001"}, "flag:CONSULVOTE_DESK_RENEWALS=\"1001\": from 1 to 1000"},
		{append(base, "--insecure-loopback", "--desk-renewals", "lots"), nil, "flag:-desk-renewals: not a whole number"},
		{append(base, "--insecure-loopback", "--mail-label-en", "Consular elections 2026", "--mail-signature-en", "Consulate General of France"), nil, ""},
		{append(base, "--insecure-loopback"), map[string]string{"CONSULVOTE_MAIL_LABEL_FR": "Élection\r\nBcc: x@example.org"}, "flag:CONSULVOTE_MAIL_LABEL_FR=\"Élection\\r\\nBcc: x@example.org\": one line"},
		{append(base, "--insecure-loopback", "--mail-signature-fr", ""), nil, "flag:-mail-signature-fr: empty"},
		// A database URL is never taken for a file name: PostgreSQL's
		// needs its key file, another is refused.
		{[]string{"--db", "postgres://vote:secret@db.example/vote", "--public-url", "https://v.example", "--insecure-loopback"}, nil, "key-file"},
		{[]string{"--db", "postgres://vote:secret@db.example/vote", "--key-file", "/etc/consulvote/key", "--public-url", "https://v.example",
			"--insecure-loopback"}, nil, ""},
		{nil, map[string]string{"CONSULVOTE_DB": "postgresql://vote:secret@db.example/vote", "CONSULVOTE_KEY_FILE": "/etc/consulvote/key",
			"CONSULVOTE_PUBLIC_URL": "https://v.example", "CONSULVOTE_INSECURE_LOOPBACK": "true"}, ""},
		{[]string{"--db", "mysql://vote:secret@db.example/vote", "--key-file", "k", "--public-url", "https://v.example", "--insecure-loopback"}, nil, "db"},
		{append(base, "--insecure-loopback", "--outbox-lease", "10ms"), nil, "outbox-lease"},
		{append(base, "--insecure-loopback", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "fd00::1"), nil, ""},
		{append(base, "--insecure-loopback"), map[string]string{"CONSULVOTE_TRUSTED_PROXY": "10.0.0.0/8,192.168.1.7/16"}, ""},
		{append(base, "--insecure-loopback", "--trusted-proxy", "balancer"), nil, "flag:-trusted-proxy: \"balancer\" is not a CIDR prefix"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := parseServe(tc.args)
			var ce *backend.ConfigError
			quote, parsing := strings.CutPrefix(tc.setting, "flag:")
			switch {
			case tc.setting == "" && err != nil:
				t.Errorf("%v %v: %v", tc.args, tc.env, err)
			case parsing:
				if err == nil || !strings.Contains(err.Error(), quote) {
					t.Errorf("%v %v: %v, want an error saying %s", tc.args, tc.env, err, quote)
				}
			case tc.setting != "" && (!errors.As(err, &ce) || ce.Setting != tc.setting):
				t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.setting)
			case slices.Contains(tc.args, "--trusted-proxy") && tc.setting == "" && c.TrustedProxies.String() != "10.0.0.0/8,fd00::1/128":
				t.Errorf("--trusted-proxy twice gave %v", c.TrustedProxies)
			case tc.env["CONSULVOTE_TRUSTED_PROXY"] != "" && c.TrustedProxies.String() != "10.0.0.0/8,192.168.0.0/16":
				t.Errorf("CONSULVOTE_TRUSTED_PROXY gave %v", c.TrustedProxies)
			case tc.env["CONSULVOTE_PER_CLIENT"] != "" && c.PerClient != -1:
				t.Errorf("CONSULVOTE_PER_CLIENT=-1 gave --per-client %v", c.PerClient)
			case slices.Contains(tc.args, "--change-lifetime") && tc.setting == "" &&
				(c.Backend.ChangeLifetime != 72*time.Hour || c.Backend.DeskRenewals != 120):
				t.Errorf("--change-lifetime 72h --desk-renewals 120 gave %v, %d", c.Backend.ChangeLifetime, c.Backend.DeskRenewals)
			case tc.env["CONSULVOTE_DESK_RENEWALS"] == "1" && (c.Backend.ChangeLifetime != time.Hour || c.Backend.DeskRenewals != 1):
				t.Errorf("the twins gave %v, %d", c.Backend.ChangeLifetime, c.Backend.DeskRenewals)
			case slices.Contains(tc.args, "--mail-label-en") && (c.Backend.MailLabel["en"] != "Consular elections 2026" ||
				c.Backend.MailSignature["en"] != "Consulate General of France" || len(c.Backend.MailLabel) != 1):
				t.Errorf("--mail-label-en, --mail-signature-en gave %v, %v", c.Backend.MailLabel, c.Backend.MailSignature)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the database password: %v", err)
			}
		})
	}
}

// writeCert writes a throwaway certificate for 127.0.0.1 and its key as
// PEM files, and returns a TLS config that trusts it.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, client *tls.Config) {
	t.Helper()
	c := testcert.New(t)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, c.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, &tls.Config{RootCAs: c.Pool}
}

// TestServeBinary runs `consulvoted serve` (built without cgo) as a process with no display,
// over TLS, checks /healthz, then stops it with SIGTERM and expects a
// clean exit; a bad setting exits 2 naming it.
func TestServeBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := build(t)
	certFile, keyFile, clientTLS := writeCert(t, dir)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "server.db"),
		"--tls-cert", certFile, "--tls-key", keyFile, "--public-url", "https://vote.example")
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The first log line says where it listens.
	addr := make(chan string, 1)
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			if i := strings.Index(line, `"addr":"`); i >= 0 && strings.Contains(line, `"msg":"serving"`) {
				a := line[i+len(`"addr":"`):]
				addr <- a[:strings.Index(a, `"`)]
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start in 20 s")
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	resp, err := client.Get("https://" + a + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "server.db.key")); err != nil {
		t.Errorf("no key file beside the database: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit 15 s after SIGTERM")
	}

	out, err := exec.Command(bin, "serve", "--db", filepath.Join(dir, "x.db"), "--public-url", "https://v.example").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--tls-cert") {
		t.Fatalf("bad config: %v, %s", err, out)
	}
}

// TestServeOfficeListen: with --office-listen the agents' login answers
// on that address and not on --listen.
func TestServeOfficeListen(t *testing.T) {
	dir := t.TempDir()
	c, err := parseServe([]string{"--db", filepath.Join(dir, "s.db"), "--public-url", "https://vote.example",
		"--insecure-loopback", "--listen", "127.0.0.1:0", "--office-listen", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, c, func(a map[string]string) { addrs <- [2]string{a["public"], a["office"]} })
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("not serving after 20 s")
	}
	status := func(addr string) int {
		resp, err := http.Post("http://"+addr+"/api/v1/agent/sessions", "application/json",
			strings.NewReader(`{"name":"personne","password":"mauvais mot de passe"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(a[0]); got != http.StatusNotFound {
		t.Errorf("agent login on --listen: %d, want 404", got)
	}
	if got := status(a[1]); got != http.StatusUnauthorized {
		t.Errorf("agent login on --office-listen: %d, want 401", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := parseServe([]string{"--db", "x.db", "--public-url", "https://v.example", "--insecure-loopback",
		"--office-listen", "10.0.0.1:9443"}); err == nil {
		t.Error("plain HTTP accepted for the office on a non-loopback address")
	}
}
