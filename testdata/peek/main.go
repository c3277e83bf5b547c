// Command peek is a helper of the packaging tests, never shipped. From the
// demonstration database of a running app it reads what the voter reads on
// the screen or in the mail, so that a test can drive the real window:
//
//	peek code DB   the digits of the latest security code, found by trying
//	               the 10,000 codes against its keyed hash (the key is
//	               beside the database, as the app keeps it)
//	peek link DB   the renewal link of the latest e-mail in the outbox
//
// It is built for Windows and run under Wine by `make test-windows`, and
// for Linux by the URL-scheme test.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"regexp"

	_ "modernc.org/sqlite"

	"consulvote/app/backend"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: peek code|link DB")
		os.Exit(2)
	}
	var out string
	var err error
	switch os.Args[1] {
	case "code":
		out, err = code(os.Args[2])
	case "link":
		out, err = link(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peek:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

// code mirrors the service's keyed hash of a security code:
// HMAC-SHA-256(key, "code" 0x00 id ":" digits).
func code(db string) (string, error) {
	key, err := os.ReadFile(db + ".key")
	if err != nil {
		return "", err
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var id string
	var hash []byte
	err = conn.QueryRow(`SELECT id, code_hash FROM security_codes ORDER BY rowid DESC LIMIT 1`).Scan(&id, &hash)
	if err != nil {
		return "", fmt.Errorf("latest security code: %w", err)
	}
	for n := range 10000 {
		digits := fmt.Sprintf("%04d", n)
		m := hmac.New(sha256.New, key)
		m.Write([]byte("code\x00" + id + ":" + digits))
		if hmac.Equal(m.Sum(nil), hash) {
			return digits, nil
		}
	}
	return "", errors.New("no 4-digit code matches: has the service's hash changed?")
}

var linkRE = regexp.MustCompile(`https?://\S+/renouvellement\?jeton=[A-Za-z0-9_-]+`)

func link(db string) (string, error) {
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{Database: db})
	if err != nil {
		return "", err
	}
	defer b.Close()
	ms, err := b.Service.Messages(ctx, 20)
	if err != nil {
		return "", err
	}
	for _, m := range ms { // newest first
		if l := linkRE.FindString(m.Text); m.Channel == "email" && l != "" {
			return l, nil
		}
	}
	return "", errors.New("no renewal link in the outbox")
}
