package remote

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/portal"
)

func TestNewRefusesPlainHTTP(t *testing.T) {
	for base, ok := range map[string]bool{
		"https://vote.example": true, "http://127.0.0.1:8080": true, "http://localhost:1": true,
		"http://vote.example": false, "ftp://vote.example": false, "vote.example": false, "": false,
	} {
		if _, err := New(base, Options{}); (err == nil) != ok {
			t.Errorf("New(%q): %v", base, err)
		}
	}
}

// TestRetriesOnlyWhatIsSafe: a backend that drops every connection gets
// the idempotent call 1+2 times and the others once, and the caller gets
// ErrUnavailable quickly.
func TestRetriesOnlyWhatIsSafe(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // no answer at all
	}))
	defer ts.Close()
	c, err := New(ts.URL, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	if _, err := c.NewSecurityCode(ctx); !errors.Is(err, portal.ErrUnavailable) {
		t.Fatalf("NewSecurityCode: %v", err)
	}
	if n := calls.Swap(0); n != 3 {
		t.Errorf("security code tried %d times, want 3", n)
	}
	err = c.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: "00012345"})
	if !errors.Is(err, portal.ErrUnavailable) {
		t.Fatalf("request: %v", err)
	}
	if n := calls.Swap(0); n != 1 {
		t.Errorf("renewal request sent %d times, want once", n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to give up", d)
	}
}
