package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, KeySize)
	b, err := New(secret, "outbox")
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("https://vote.example/renouvellement?jeton=abc")
	sealed, err := b.Seal(plain, []byte("row 1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) || bytes.Contains(sealed, []byte("jeton")) {
		t.Fatal("sealed message holds the plain text")
	}
	got, err := b.Open(sealed, []byte("row 1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}

	other, _ := New(bytes.Repeat([]byte{8}, KeySize), "outbox")
	otherPurpose, _ := New(secret, "sms")
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"other key":     func() ([]byte, error) { return other.Open(sealed, []byte("row 1")) },
		"other purpose": func() ([]byte, error) { return otherPurpose.Open(sealed, []byte("row 1")) },
		"other row":     func() ([]byte, error) { return b.Open(sealed, []byte("row 2")) },
		"tampered":      func() ([]byte, error) { return b.Open(tampered, []byte("row 1")) },
		"truncated":     func() ([]byte, error) { return b.Open(sealed[:5], []byte("row 1")) },
	} {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestNewShortSecret(t *testing.T) {
	if _, err := New(make([]byte, 16), "x"); err == nil {
		t.Fatal("New accepted a 16-byte secret")
	}
}
