package screens

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"fyne.io/fyne/v2/test"

	"consulvote/app/remote"
	"consulvote/app/server"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// newRemoteHarness is the app in remote mode: its portal is the remote
// client, talking over TLS on 127.0.0.1 to the real server, which runs the
// service on its own SQLite file. The harness reads the server's outbox as
// the voter's mailbox.
func newRemoteHarness(t *testing.T, opts ...func(*Options)) *harness {
	t.Helper()
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	api := server.New(e.Service.Portal, server.Options{PerClient: -1})
	ts := httptest.NewTLSServer(api)
	t.Cleanup(ts.Close)
	client, err := remote.New(ts.URL, remote.Options{TLS: ts.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessOn(t, client, e.Service, e.Clock, opts...)
}

// bothModes runs a screen test on the local service and on the remote one.
func bothModes(t *testing.T, test func(*testing.T, *harness)) {
	t.Run("local", func(t *testing.T) { test(t, newHarness(t)) })
	t.Run("remote", func(t *testing.T) { test(t, newRemoteHarness(t)) })
}

// TestBackendUnreachable: with the server gone, every action says the
// service cannot be reached, promptly, and nothing hangs.
func TestBackendUnreachable(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	url, tlsConfig := ts.URL, ts.Client().Transport.(*http.Transport).TLSClientConfig
	ts.Close() // nothing listens there any more
	client, err := remote.New(url, remote.Options{TLS: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	e := servicetest.New(t, servicetest.Config(), service.Options{})
	h := newHarnessOn(t, client, e.Service, e.Clock, func(o *Options) { o.Outbox = nil })
	home := screenAs[*homeScreen](h)
	test.Type(home.identifier.Entry, marie.Identifier)
	h.Enter(home.password.Entry, marie.Password)
	h.See("Le service est injoignable. Vérifiez votre connexion à Internet et réessayez.")
	if home.login.Button.Disabled() {
		t.Error("the button stays disabled after the failure")
	}
	h.Tap(home.lostID)
	screenAs[*requestScreen](h)
	h.See("Le code de sécurité n'a pas pu être chargé. Cliquez sur « Nouveau code ».")
}
