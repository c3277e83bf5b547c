package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// TestBusyHashingAnswers503: with one hashing worker and a queue of two,
// 40 concurrent logins get either an evaluation (401) or, past the
// queue, a quick 503 "unavailable" with Retry-After; only the evaluated
// ones cost a hash.
func TestBusyHashingAnswers503(t *testing.T) {
	cfg := servicetest.Config()
	cfg.HashWorkers, cfg.HashQueue = 1, 2
	// The real cost: the queue fills only while hashes take their time.
	e := servicetest.New(t, cfg, service.Options{HashCost: &cfg.Argon2})
	h := New(e.Service.Portal, Options{PerClient: -1})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	seeded := e.Service.Operator.HashStats() // the demo voters' passwords
	const n = 40
	var mu sync.Mutex
	status := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			body, _ := json.Marshal(api.LoginRequest{Identifier: "inconnu" + strconv.Itoa(i), Password: "mauvais"})
			resp, err := http.Post(ts.URL+api.Sessions, api.ContentType, bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var ae api.Error
			b, _ := io.ReadAll(resp.Body)
			json.Unmarshal(b, &ae)
			mu.Lock()
			defer mu.Unlock()
			status[resp.StatusCode]++
			switch resp.StatusCode {
			case http.StatusServiceUnavailable:
				if ae.Error.Code != "unavailable" || resp.Header.Get("Retry-After") == "" {
					t.Errorf("503 with code %q and Retry-After %q", ae.Error.Code, resp.Header.Get("Retry-After"))
				}
			case http.StatusUnauthorized:
			default:
				t.Errorf("status %d: %s", resp.StatusCode, b)
			}
		})
	}
	close(start)
	wg.Wait()
	if status[http.StatusServiceUnavailable] == 0 || status[http.StatusUnauthorized] < 3 {
		t.Fatalf("answers %v: want at least 3 evaluated and some refused at once", status)
	}
	st := e.Service.Operator.HashStats()
	if int(st.Done-seeded.Done) != status[http.StatusUnauthorized] || int(st.Refused-seeded.Refused) != status[http.StatusServiceUnavailable] {
		t.Errorf("hash stats %+v for answers %v: each 401 one hash, each 503 none", st, status)
	}
}
