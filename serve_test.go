package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"consulvote/internal/testcert"
)

func TestParseServe(t *testing.T) {
	base := []string{"--db", "/tmp/x.db", "--public-url", "https://vote.example"}
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		setting string // "" when valid
	}{
		{append(base, "--insecure-loopback"), nil, ""},
		{append(base, "--tls-cert", "c.pem", "--tls-key", "k.pem", "--listen", "0.0.0.0:443"), nil, ""},
		{[]string{"--public-url", "https://v.example", "--insecure-loopback"}, nil, "--db"},
		{base, nil, "--tls-cert"},
		{append(base, "--tls-cert", "c.pem"), nil, "--tls-cert/--tls-key"},
		{append(base, "--insecure-loopback", "--listen", "0.0.0.0:80"), nil, "--insecure-loopback"},
		{append(base, "--insecure-loopback", "--listen", "nope"), nil, "--listen"},
		{[]string{"--db", "x.db", "--insecure-loopback"}, nil, "--public-url"},
		{append(base, "--insecure-loopback", "--smtp", "mail.example:25"), nil, "--smtp"},
		{append(base, "--insecure-loopback", "--smtp", "smtp://mail.example:25"), nil, "--from"},
		{append(base, "--insecure-loopback", "--sms-gateway", "http://gw.example/send"), nil, "--sms-gateway"},
		{nil, map[string]string{"CONSULVOTE_DB": "/tmp/y.db", "CONSULVOTE_PUBLIC_URL": "https://v.example", "CONSULVOTE_INSECURE_LOOPBACK": "true"}, ""},
		{[]string{"--db", "/tmp/z.db"}, map[string]string{"CONSULVOTE_PUBLIC_URL": "https://v.example", "CONSULVOTE_LISTEN": "[::1]:9000", "CONSULVOTE_INSECURE_LOOPBACK": "true"}, ""},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		_, err := parseServe(tc.args, io.Discard)
		var ce *configError
		switch {
		case tc.setting == "" && err != nil:
			t.Errorf("%v %v: %v", tc.args, tc.env, err)
		case tc.setting != "" && (!errors.As(err, &ce) || ce.setting != tc.setting):
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.setting)
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
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

// TestServeBinary runs `consulvote serve` as a process with no display,
// over TLS, checks /healthz, then stops it with SIGTERM and expects a
// clean exit; a bad setting exits 2 naming it.
func TestServeBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "consulvote")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
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
		"--insecure-loopback", "--listen", "127.0.0.1:0", "--office-listen", "127.0.0.1:0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, c, slog.New(slog.DiscardHandler), func(public, office string) { addrs <- [2]string{public, office} })
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
		"--office-listen", "10.0.0.1:9443"}, io.Discard); err == nil {
		t.Error("plain HTTP accepted for the office on a non-loopback address")
	}
}
