package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"consulvote/app/backend"
)

// startServe runs `serve` with args in the test's process until the test
// ends, and returns the addresses it listens on by listener.
func startServe(t *testing.T, args ...string) map[string]string {
	t.Helper()
	c, err := parseServe(args)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan map[string]string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, c, func(a map[string]string) { addrs <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addrs:
		return a
	case err := <-done:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("not serving after 20 s")
	}
	return nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsNeverOnThePublicListener: /metrics answers on the office's
// listener and on --metrics-listen, and 404 on --listen, whether or not
// the office has its own listener. /healthz and /readyz answer on all.
func TestMetricsNeverOnThePublicListener(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--public-url", "https://vote.example", "--insecure-loopback", "--listen", "127.0.0.1:0"}
	a := startServe(t, append(base, "--db", filepath.Join(dir, "a.db"), "--office-listen", "127.0.0.1:0",
		"--metrics-listen", "127.0.0.1:0")...)
	// A request on the public listener, counted and shown on the others.
	if st, _ := get(t, "http://"+a["public"]+"/healthz"); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
	if st, body := get(t, "http://"+a["public"]+"/metrics"); st != http.StatusNotFound || strings.Contains(body, "consulvote_") {
		t.Errorf("/metrics on the public listener: %d %.80q, want 404", st, body)
	}
	for _, l := range []string{"office", "metrics"} {
		st, body := get(t, "http://"+a[l]+"/metrics")
		if st != 200 || !strings.Contains(body, `consulvote_http_requests_total{code="200",route="GET /healthz"}`) {
			t.Errorf("/metrics on the %s listener: %d, want 200 with the public listener's requests:\n%.600s", l, st, body)
		}
	}
	if st, _ := get(t, "http://"+a["metrics"]+"/api/v1/agent/voters/1"); st != http.StatusNotFound {
		t.Errorf("the office's API on the metrics listener: %d, want 404", st)
	}
	for _, l := range []string{"public", "office", "metrics"} {
		st, body := get(t, "http://"+a[l]+"/readyz")
		if st != 200 || !strings.Contains(body, `"ready"`) {
			t.Errorf("/readyz on the %s listener: %d %s", l, st, body)
		}
	}

	// The office on the public listener: still no metrics there.
	b := startServe(t, append(base, "--db", filepath.Join(dir, "b.db"))...)
	if st, _ := get(t, "http://"+b["public"]+"/metrics"); st != http.StatusNotFound {
		t.Errorf("/metrics on the public listener that also serves the office: %d, want 404", st)
	}
	if st, _ := get(t, "http://"+b["public"]+"/readyz"); st != 200 {
		t.Errorf("/readyz: %d", st)
	}

	for _, bad := range [][]string{
		{"--metrics-listen", "127.0.0.1:9999", "--listen", "127.0.0.1:9999"},
		{"--metrics-listen", "10.1.2.3:9100"}, // plain HTTP off loopback
		{"--stop-timeout", "0s"},
	} {
		_, err := parseServe(append([]string{"--db", "x.db", "--public-url", "https://v.example", "--insecure-loopback"}, bad...))
		var ce *backend.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%v: %v, want a setting refused", bad, err)
		}
	}
}

// TestReadyzSaysWhyOnTheInternalListener: when the database's schema is
// not the version the program expects, /readyz answers 503 everywhere,
// with the reason on the internal listener only.
func TestReadyzSaysWhyOnTheInternalListener(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	a := startServe(t, "--public-url", "https://vote.example", "--insecure-loopback", "--listen", "127.0.0.1:0",
		"--db", db, "--metrics-listen", "127.0.0.1:0")
	// A newer program migrated the database under this one.
	raw := openRaw(t, db)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, datetime('now'))`); err != nil {
		t.Fatal(err)
	}
	st, body := get(t, "http://"+a["public"]+"/readyz")
	if st != http.StatusServiceUnavailable || strings.Contains(body, "schema") {
		t.Errorf("public /readyz: %d %s; want 503 without the reason", st, body)
	}
	st, body = get(t, "http://"+a["metrics"]+"/readyz")
	var r struct {
		Status   string
		Problems []string
	}
	if json.Unmarshal([]byte(body), &r); st != http.StatusServiceUnavailable || r.Status != "unready" ||
		len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "schema at version 999") {
		t.Errorf("internal /readyz: %d %s; want 503 naming the schema", st, body)
	}
	if st, _ := get(t, "http://"+a["public"]+"/healthz"); st != 200 {
		t.Errorf("/healthz while unready: %d, want 200 (the process lives)", st)
	}
}

// openRaw opens a SQLite file directly, as an operator's sqlite3 would.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	// The running server writes too (its first checkpoint): wait for it
	// rather than fail with SQLITE_BUSY.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}
