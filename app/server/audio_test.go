package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
	"consulvote/app/remote"
)

// TestSecurityCodeAudio: GET …/audio answers a WAV, not to be stored, in
// the language asked; a wrong or expired id the same error; the code
// stays usable; the route, never the id, is logged; and the audio is
// limited per client like the picture.
func TestSecurityCodeAudio(t *testing.T) {
	s := newTestServer(t, Options{PerClient: 0.01, Burst: 5})
	ctx := context.Background()
	code, err := s.env.Service.Portal.NewSecurityCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := s.ts.Client().Get(s.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	path := func(id, lang string) string { return api.SecurityCodes + "/" + id + "/audio?lang=" + lang }
	fr, frBody := get(path(code.ID, "fr"))
	if fr.StatusCode != 200 || fr.Header.Get("Content-Type") != "audio/wav" || fr.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("answer %d %q, Cache-Control %q", fr.StatusCode, fr.Header.Get("Content-Type"), fr.Header.Get("Cache-Control"))
	}
	if !bytes.HasPrefix(frBody, []byte("RIFF")) {
		t.Fatal("not a WAV")
	}
	if _, en := get(path(code.ID, "en")); bytes.Equal(en, frBody) {
		t.Fatal("the same sound in English and French")
	}
	unknown, _ := get(path(strings.Repeat("A", 54), "fr"))
	if unknown.StatusCode != 422 {
		t.Errorf("an unknown id: %d", unknown.StatusCode)
	}
	if status, e, _ := s.do(http.MethodGet, path(code.ID, "de"), "", nil); status != 400 || e.Error.Code != portal.CodeInvalidInput {
		t.Errorf("an unknown language: %d %q", status, e.Error.Code)
	}
	if strings.Contains(s.logs.String(), code.ID) {
		t.Error("the code's id is in the log")
	}
	// Listening spends nothing: the code still answers once.
	if err := s.env.Service.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: "00012345", Email: "marie.dupont@example.org", CodeID: code.ID, Code: "0000"}); err != nil && !strings.Contains(err.Error(), "security_code_wrong") {
		t.Fatalf("after listening, the code: %v", err)
	}
	// Expired: the same answer as unknown.
	code2, _ := s.env.Service.Portal.NewSecurityCode(ctx)
	s.env.Clock.Advance(time.Hour)
	if status, e, _ := s.do(http.MethodGet, path(code2.ID, "fr"), "", nil); status != 422 || e.Error.Code != portal.CodeSecurityCodeExpired {
		t.Errorf("an expired code: %d %q", status, e.Error.Code)
	}
	// The per-client limit: 5 in a burst, then 429.
	if status, e, h := s.do(http.MethodGet, path(code2.ID, "fr"), "", nil); status != 429 || e.Error.Code != portal.CodeRateLimited || h.Get("Retry-After") == "" {
		t.Fatalf("past the burst: %d %q", status, e.Error.Code)
	}
}

// TestSecurityCodeAudioLimitUnderLoad: many clients' worth of goroutines
// from one address get no more sounds than the burst allows.
func TestSecurityCodeAudioLimitUnderLoad(t *testing.T) {
	s := newTestServer(t, Options{PerClient: 0.01, Burst: 5})
	code, _ := s.env.Service.Portal.NewSecurityCode(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.ts.Client().Get(s.ts.URL + api.SecurityCodes + "/" + code.ID + "/audio?lang=fr")
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok > 5 || ok == 0 {
		t.Fatalf("%d sounds served to one client at once, want 1 to 5", ok)
	}
}

func TestSecurityCodeAudioThroughRemote(t *testing.T) {
	s := newTestServer(t, Options{PerClient: -1})
	c, err := remote.New(s.ts.URL, remote.Options{TLS: s.ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code, err := c.NewSecurityCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SecurityCodeAudio(ctx, code.ID, "en")
	if err != nil || !bytes.HasPrefix(b, []byte("RIFF")) {
		t.Fatalf("remote audio: %d bytes, %v", len(b), err)
	}
	if _, err := c.SecurityCodeAudio(ctx, "nope", "fr"); err == nil {
		t.Fatal("an unknown code spoken")
	}
}
