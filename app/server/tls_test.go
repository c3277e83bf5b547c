package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/testcert"
)

// TestTLSAEADOnlyAndHSTS: over TLS 1.2 a client offering only CBC or
// SHA-1 suites is refused, one offering an AEAD suite is served; every
// answer over TLS carries Strict-Transport-Security, none in clear.
func TestTLSAEADOnlyAndHSTS(t *testing.T) {
	c := testcert.New(t)
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	h := New(e.Service.Portal, Options{PerClient: -1})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(tls.NewListener(l, TLSConfig(c.TLS)))
	t.Cleanup(func() { srv.Close() })
	addr := l.Addr().String()

	dial := func(suite uint16) error {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: c.Pool, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{suite}})
		if err == nil {
			conn.Close()
		}
		return err
	}
	for _, weak := range []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	} {
		if err := dial(weak); err == nil {
			t.Errorf("TLS 1.2 with %s accepted", tls.CipherSuiteName(weak))
		}
	}
	for _, good := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		if err := dial(good); err != nil {
			t.Errorf("TLS 1.2 with %s refused: %v", tls.CipherSuiteName(good), err)
		}
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.Pool}}}
	resp, err := client.Get("https://" + addr + api.Health)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no Strict-Transport-Security over TLS")
	}
	plain := httptest.NewServer(h)
	t.Cleanup(plain.Close)
	resp, err = http.Get(plain.URL + api.Health)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("Strict-Transport-Security in clear: %q", hsts)
	}
}
