package keychain

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"consulvote/internal/testenv"
)

// requireSecretService skips unless `make keychain` started a private
// Secret Service (gnome-keyring in its own D-Bus session) for this run,
// and fails if it did but a part is missing.
func requireSecretService(t *testing.T) {
	t.Helper()
	testenv.Need(t, "CONSULVOTE_SECRET_SERVICE", []string{"DBUS_SESSION_BUS_ADDRESS"}, []string{"secret-tool"})
}

func TestRealSecretService(t *testing.T) {
	requireSecretService(t)
	k := Keychain{Service: "fr.consulvote.test"}
	user := "00012345"
	t.Cleanup(func() { k.Delete(user) })

	if _, err := k.Load(user); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save: %v, want not found", err)
	}
	if err := k.Save(user, "hq67savGuH9Z"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Load(user); err != nil || got != "hq67savGuH9Z" {
		t.Fatalf("Load = %q, %v", got, err)
	}
	// Another program sees the same entry: the keychain is the system's.
	out, err := exec.Command("secret-tool", "lookup", "service", k.Service, "username", user).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "hq67savGuH9Z" {
		t.Fatalf("secret-tool lookup = %q", got)
	}
	if err := k.Save(user, "Tr8wLm2KpQ4x"); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.Load(user); got != "Tr8wLm2KpQ4x" {
		t.Fatalf("after a second Save: %q", got)
	}
	if err := k.Delete(user); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Load(user); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: %v", err)
	}
}

func TestNoSecretService(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service is Linux's keychain (Windows' Credential Manager is tested under Wine by make test-windows)")
	}
	if os.Getenv("CONSULVOTE_KEYCHAIN_CHILD") == "1" {
		// In the child: a session bus address where nothing listens.
		k := Keychain{Service: "fr.consulvote.test"}
		if err := k.Save("x", "y"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Save without a bus: %v, want unavailable", err)
		}
		if _, err := k.Load("x"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Load without a bus: %v, want unavailable", err)
		}
		return
	}
	// The D-Bus connection is made once per process, so the check runs in
	// a child process of this test binary.
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoSecretService$", "-test.v")
	cmd.Env = append(os.Environ(), "CONSULVOTE_KEYCHAIN_CHILD=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+t.TempDir()+"/nobus", "DISPLAY=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
