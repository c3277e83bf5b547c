// Command peek is a helper of the packaging tests, never shipped. From the
// demonstration database of a running app it reads what the voter reads on
// the screen or in the mail, so that a test can drive the real window:
//
//	peek code DB [N]  the digits of the first (or Nth) security code the
//	               app draws on the demonstration database (the key is
//	               beside the database, as the app keeps it)
//	peek link DB   the renewal link of the latest e-mail in the outbox
//
// It is built for Windows and run under Wine by `make test-windows`, and
// for Linux by the URL-scheme test.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"

	"consulvote/app/backend"
	"consulvote/app/captcha"
	"consulvote/app/portal"
)

func main() {
	if len(os.Args) != 3 && (len(os.Args) != 4 || os.Args[1] != "code") {
		fmt.Fprintln(os.Stderr, "usage: peek code DB [N] | peek link DB")
		os.Exit(2)
	}
	var out string
	var err error
	switch os.Args[1] {
	case "code":
		n := 1
		if len(os.Args) == 4 {
			n, err = strconv.Atoi(os.Args[3])
		}
		if err == nil {
			out, err = code(os.Args[2], n)
		}
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

// code draws the nth security code of a demonstration run, as the app
// draws them (backend.DemoCodes, keyed by the key beside the database):
// codes are stored nowhere.
func code(db string, n int) (string, error) {
	key, err := os.ReadFile(db + ".key")
	if err != nil {
		return "", err
	}
	codes := backend.DemoCodes(key)
	var digits string
	for range max(n, 1) {
		if digits, err = captcha.Digits(codes, portal.SecurityCodeLen); err != nil {
			return "", err
		}
	}
	return digits, nil
}

var linkRE = regexp.MustCompile(`https?://\S+/renouvellement\?jeton=[A-Za-z0-9_-]+`)

func link(db string) (string, error) {
	ctx := context.Background()
	b, err := backend.Open(ctx, backend.Config{Database: db})
	if err != nil {
		return "", err
	}
	defer b.Close()
	ms, err := b.Service.Portal.Messages(ctx, 20)
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
