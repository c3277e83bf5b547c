// Package bounce traces each e-mail back: the return path that names the
// message and is signed with the server's key (VERP), and the intake, an
// SMTP server that takes the delivery reports coming back to those
// addresses, reads them (RFC 3464) and tells the outbox what became of the
// message they name.
package bounce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
)

// Placeholder is where a template (--bounce-address) takes the reference.
const Placeholder = "{ref}"

// macLen is the signature's length in bytes: 80 bits, far beyond what an
// intake bounded in rate lets anyone guess.
const macLen = 10

// ErrAddress is the refusal of an address that is not one of ours: no
// reference, a bad signature, or another domain.
var ErrAddress = errors.New("bounce: not a signed return path")

// Addresses makes and reads the return paths.
type Addresses struct {
	prefix, suffix string // the template around its placeholder, lower case
	key            []byte
}

// NewAddresses reads a template such as "bounce+{ref}@example.org": one
// placeholder in the local part. secret is the server's key; the
// signatures use a key derived from it, for this purpose only.
func NewAddresses(template string, secret []byte) (*Addresses, error) {
	local, domain, ok := strings.Cut(template, "@")
	if !ok || strings.Count(template, Placeholder) != 1 || !strings.Contains(local, Placeholder) || domain == "" {
		return nil, fmt.Errorf("bounce address %q: want a local part with %s and a domain, e.g. bounce+%s@example.org", template, Placeholder, Placeholder)
	}
	if _, err := mail.ParseAddress(strings.Replace(template, Placeholder, "x", 1)); err != nil {
		return nil, fmt.Errorf("bounce address %q: %w", template, err)
	}
	if len(secret) == 0 {
		return nil, errors.New("bounce address: no key")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("consulvote bounce address v1"))
	prefix, suffix, _ := strings.Cut(strings.ToLower(template), Placeholder)
	return &Addresses{prefix: prefix, suffix: suffix, key: m.Sum(nil)}, nil
}

// base32 in lower case without padding: relays may fold the case of a
// local part, and a reference must survive it.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Ref returns message id's reference: its number and signature, e.g.
// "42-mfrggzdfmztwq2lk". It is also the envelope id of the DSN request.
func (a *Addresses) Ref(id int64) string {
	return strconv.FormatInt(id, 10) + "-" + a.mac(id)
}

func (a *Addresses) mac(id int64) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(strconv.FormatInt(id, 10)))
	return encoding.EncodeToString(m.Sum(nil)[:macLen])
}

// ReturnPath returns message id's envelope sender and its reference.
func (a *Addresses) ReturnPath(id int64) (address, ref string) {
	ref = a.Ref(id)
	return a.prefix + ref + a.suffix, ref
}

// Message returns the message a return path names, or ErrAddress when the
// address is not ours or its signature is wrong.
func (a *Addresses) Message(address string) (int64, error) {
	address = strings.ToLower(address)
	if !strings.HasPrefix(address, a.prefix) || !strings.HasSuffix(address, a.suffix) ||
		len(address) < len(a.prefix)+len(a.suffix) {
		return 0, ErrAddress
	}
	return a.ParseRef(address[len(a.prefix) : len(address)-len(a.suffix)])
}

// ParseRef returns the message a reference names, or ErrAddress.
func (a *Addresses) ParseRef(ref string) (int64, error) {
	num, mac, ok := strings.Cut(strings.ToLower(ref), "-")
	id, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || id <= 0 || strconv.FormatInt(id, 10) != num ||
		!hmac.Equal([]byte(mac), []byte(a.mac(id))) {
		return 0, ErrAddress
	}
	return id, nil
}

// Ours reports whether address has the shape of a return path of ours,
// signed or not: mail from one is a loop.
func (a *Addresses) Ours(address string) bool {
	address = strings.ToLower(address)
	return strings.HasPrefix(address, a.prefix) && strings.HasSuffix(address, a.suffix) &&
		len(address) > len(a.prefix)+len(a.suffix)
}
