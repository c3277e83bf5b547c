package receipt

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// memory holds SMS by gateway id with the store's rule: a final state
// stays. The real one (the service on a real store) is tested in the
// backend.
type memory struct {
	mu    sync.Mutex
	ids   map[string]int64 // "gateway/id" → message
	state map[int64]string
	sets  atomic.Int64
}

func newMemory(n int) *memory {
	m := &memory{ids: map[string]int64{}, state: map[int64]string{}}
	for i := range n {
		m.ids[fmt.Sprintf("primary/gw-%d", i)] = int64(i + 1)
	}
	return m
}

func (m *memory) SMS(_ context.Context, gateway, id string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.ids[gateway+"/"+id]; ok {
		return n, nil
	}
	return 0, ErrUnknown
}

func (m *memory) RecordSMS(_ context.Context, id int64, state, status string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state[id] != "" {
		return false, nil
	}
	m.state[id] = state + " " + status
	m.sets.Add(1)
	return true, nil
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(o string) { c.mu.Lock(); c.n[o]++; c.mu.Unlock() }

func setup(t testing.TB, n int) (*httptest.Server, *memory, *counter) {
	rec := newMemory(n)
	c := &counter{n: map[string]int{}}
	h := New(map[string]string{"primary": "tok-primary", "fallback": "tok-fallback", "none": ""}, rec, nil, c.add)
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts, rec, c
}

func post(t testing.TB, client *http.Client, url, token, body string) int {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReceipts(t *testing.T) {
	ts, rec, c := setup(t, 3)
	url := ts.URL + Path + "primary"
	for _, tc := range []struct {
		name, url, token, body string
		code                   int
	}{
		{"delivered", url, "tok-primary", `{"id": "gw-0", "status": "delivered"}`, 204},
		{"replayed", url, "tok-primary", `{"id": "gw-0", "status": "delivered"}`, 204},
		{"undelivered after delivered", url, "tok-primary", `{"id": "gw-0", "status": "undelivered", "error": "34"}`, 204},
		{"undelivered", url, "tok-primary", `{"id": "gw-1", "status": "undelivered", "error": "EC_UNKNOWN_SUBSCRIBER\u0007"}`, 204},
		{"unknown id", url, "tok-primary", `{"id": "gw-99", "status": "delivered"}`, 404},
		{"bad token", url, "tok-wrong", `{"id": "gw-2", "status": "delivered"}`, 401},
		{"no token", url, "", `{"id": "gw-2", "status": "delivered"}`, 401},
		{"another gateway's token", url, "tok-fallback", `{"id": "gw-2", "status": "delivered"}`, 401},
		{"a gateway without token", ts.URL + Path + "none", "", `{"id": "gw-2", "status": "delivered"}`, 401},
		{"an id of another gateway", ts.URL + Path + "fallback", "tok-fallback", `{"id": "gw-2", "status": "delivered"}`, 404},
		{"unknown gateway", ts.URL + Path + "other", "tok-primary", `{"id": "gw-2", "status": "delivered"}`, 401},
		{"unknown status", url, "tok-primary", `{"id": "gw-2", "status": "read"}`, 400},
		{"not JSON", url, "tok-primary", `id=gw-2`, 400},
		{"two objects", url, "tok-primary", `{"id": "gw-2", "status": "delivered"} {}`, 400},
		{"too large", url, "tok-primary", `{"id": "gw-2", "status": "delivered", "error": "` + strings.Repeat("x", MaxBody) + `"}`, 400},
	} {
		if code := post(t, ts.Client(), tc.url, tc.token, tc.body); code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.code)
		}
	}
	want := map[int64]string{1: "delivered ", 2: "refused error EC_UNKNOWN_SUBSCRIBER"}
	if fmt.Sprint(rec.state) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", rec.state, want)
	}
	if c.n[Recorded] != 2 || c.n[Replayed] != 2 || c.n[BadToken] != 5 || c.n[Unknown] != 2 || c.n[Malformed] != 4 {
		t.Errorf("counts %v", c.n)
	}
}

// TestReceiptsConcurrent: 10,000 receipts from 64 callers at once, each
// sent twice (a gateway retrying): every SMS gets its state once, none
// lost, every replay answered as the first.
func TestReceiptsConcurrent(t *testing.T) {
	const n, callers = 10000, 64
	ts, rec, c := setup(t, n)
	url := ts.URL + Path + "primary"
	client := ts.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = callers
	var next atomic.Int64
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range callers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= 2*n {
					return
				}
				body := fmt.Sprintf(`{"id": "gw-%d", "status": "delivered"}`, i%n)
				if post(t, client, url, "tok-primary", body) != 204 {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 || rec.sets.Load() != n || len(rec.state) != n || c.n[Recorded] != n || c.n[Replayed] != n {
		t.Fatalf("%d refused, %d set, %d states, counts %v; want 0, %d, %d, %d recorded and replayed", bad.Load(), rec.sets.Load(), len(rec.state), c.n, n, n, n)
	}
}
