package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// probe sends n probes at once to h and checks each answer's status.
func probe(t *testing.T, h http.Handler, n, want int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", ReadyPath, nil))
			if rec.Code != want {
				t.Errorf("/readyz answered %d, want %d", rec.Code, want)
			}
		}()
	}
	wg.Wait()
}

// TestReadyLogsChanges: a balancer probing /readyz every second must not
// fill the log: one line when the answer goes bad, one when it changes,
// one when it is ready again — also with probes at once.
func TestReadyLogsChanges(t *testing.T) {
	var problem atomic.Value
	problem.Store("")
	var logs bytes.Buffer
	var mu sync.Mutex
	h := ready(func(context.Context) error {
		if p := problem.Load().(string); p != "" {
			return errors.New(p)
		}
		return nil
	}, 0, true, slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil)))

	probe(t, h, 5, http.StatusOK)
	problem.Store("database unreachable")
	probe(t, h, 20, http.StatusServiceUnavailable)
	problem.Store("outbox worker stuck")
	probe(t, h, 20, http.StatusServiceUnavailable)
	problem.Store("")
	probe(t, h, 20, http.StatusOK)
	problem.Store("database unreachable")
	probe(t, h, 5, http.StatusServiceUnavailable)

	mu.Lock()
	defer mu.Unlock()
	lines := func(msg string) int { return strings.Count(logs.String(), `"msg":"`+msg+`"`) }
	if got := lines("not ready"); got != 3 {
		t.Errorf("%d 'not ready' lines for 3 changes to unready answers, want 3:\n%s", got, &logs)
	}
	if got := lines("ready again"); got != 1 {
		t.Errorf("%d 'ready again' lines, want 1 (and none before the first problem)", got)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestReadyAsksOncePerPeriod: probes are not limited per client, so the
// database is asked at most once per period, however many probes come.
func TestReadyAsksOncePerPeriod(t *testing.T) {
	var checks atomic.Int32
	h := ready(func(context.Context) error {
		checks.Add(1)
		time.Sleep(10 * time.Millisecond) // a slow database: probes pile up
		return nil
	}, time.Hour, false, slog.New(slog.DiscardHandler))
	probe(t, h, 64, http.StatusOK)
	if n := checks.Load(); n != 1 {
		t.Errorf("64 probes asked the database %d times, want once per period", n)
	}
}

// TestProbesNotLimitedPerClient holds docs/operations.md: the nodes of a load
// balancer may share one address; /healthz and /readyz answer them all,
// while the API routes stay limited.
func TestProbesNotLimitedPerClient(t *testing.T) {
	s := newTestServer(t, Options{Ready: func(context.Context) error { return nil }})
	for _, path := range []string{"/healthz", ReadyPath, "/api/v1/no-such-route"} {
		limited := 0
		for range 30 {
			resp, err := s.ts.Client().Get(s.ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		if probe := path != "/api/v1/no-such-route"; probe && limited > 0 {
			t.Errorf("30 quick probes of %s: %d limited, want none", path, limited)
		} else if !probe && limited == 0 {
			t.Errorf("30 quick requests to %s: none limited, want the per-client limit", path)
		}
	}
}
