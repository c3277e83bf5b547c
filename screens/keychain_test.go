package screens

import (
	"os/exec"
	"strings"
	"testing"

	"consulvote/app/keychain"
	"consulvote/internal/testenv"
)

// TestE6SavesToRealKeychain saves from E6 into a real Secret Service and
// reads it back through go-keyring and through secret-tool. `make test`
// runs it inside a private D-Bus session with gnome-keyring unlocked.
func TestE6SavesToRealKeychain(t *testing.T) {
	testenv.Need(t, "CONSULVOTE_SECRET_SERVICE", []string{"DBUS_SESSION_BUS_ADDRESS"}, []string{"secret-tool"})
	kc := keychain.Keychain{Service: "fr.consulvote.portal.test"}
	t.Cleanup(func() { kc.Delete(marie.NUMIC) })
	h := newHarness(t, func(o *Options) { o.Keychain = kc })
	id := h.renewToE6()
	newID := id.renewal.Identifier // the screen forgets it once left
	h.Tap(id.save)
	h.See("Identifiant enregistré dans le trousseau du système.")

	if got, err := kc.Load(marie.NUMIC); err != nil || got != newID {
		t.Fatalf("go-keyring reads %q, %v", got, err)
	}
	out, err := exec.Command("secret-tool", "lookup", "service", kc.Service, "username", marie.NUMIC).Output()
	if err != nil {
		t.Fatalf("secret-tool: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != newID {
		t.Fatalf("secret-tool reads %q", got)
	}
	h.Tap(id.home)
	home := screenAs[*homeScreen](h)
	h.Tap(home.fill[0])
	if home.identifier.Entry.Text != newID {
		t.Fatalf("E1 filled %q from the keychain", home.identifier.Entry.Text)
	}
}
