package keychain

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRealCredentialManager saves an identifier in the Windows Credential
// Manager (go-keyring's wincred backend) and reads it back from another
// process: `make test-wine` runs this test's executable under Wine, and
// the hosted Windows runner runs it natively.
func TestRealCredentialManager(t *testing.T) {
	k := Keychain{Service: "fr.consulvote.test"}
	user := "00012345"
	if os.Getenv("CONSULVOTE_KEYCHAIN_CHILD") == "1" {
		// The child: read what the parent saved, and say it on stdout.
		got, err := k.Load(user)
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("loaded=" + got + "\n")
		return
	}
	t.Cleanup(func() { k.Delete(user) })
	k.Delete(user)
	if _, err := k.Load(user); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load before Save: %v, want not found", err)
	}
	if err := k.Save(user, "hq67savGuH9Z"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRealCredentialManager$", "-test.v")
	cmd.Env = append(os.Environ(), "CONSULVOTE_KEYCHAIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "loaded=hq67savGuH9Z\n") {
		t.Fatalf("another process did not read the identifier back: %v\n%s", err, out)
	}
	if err := k.Save(user, "Tr8wLm2KpQ4x"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Load(user); err != nil || got != "Tr8wLm2KpQ4x" {
		t.Fatalf("after a second Save: %q, %v", got, err)
	}
	if err := k.Delete(user); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Load(user); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load after Delete: %v", err)
	}
}
