// Package filemac signs a file with an HMAC-SHA-256 under a key derived
// from the server's secret, in a sidecar file beside it (NAME.mac), and
// checks it: a backup edited, cut short or made under another key is
// refused before it is used.
//
// A sidecar rather than a trailer: the backup stays a plain SQLite file
// that sqlite3, Inspect and `audit verify` open as it is, and a backup
// whose sidecar is lost is refused, not trusted.
package filemac

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Ext is the sidecar's suffix: the MAC of NAME is in NAME.mac.
const Ext = ".mac"

// What Verify finds wrong, each with a sentence of its own.
var (
	ErrMissing  = errors.New("it has no MAC file beside it (NAME" + Ext + "): it was not made by `consulvoted backup`, or its MAC file was lost")
	ErrDamaged  = errors.New("its MAC file is damaged")
	ErrOtherKey = errors.New("it was signed under another key: a backup of another server, or not this database's key")
	ErrSize     = errors.New("it is not the size it had when signed: truncated or extended")
	ErrEdited   = errors.New("its content was edited after it was signed")
)

const magic = "consulvote file mac v1"

// sum is what a sidecar holds.
type sum struct {
	size  int64
	keyID string // hex: which key signed, not the key
	mac   []byte
}

func (s sum) String() string {
	return fmt.Sprintf("%s size=%d key=%s hmac-sha256=%x\n", magic, s.size, s.keyID, s.mac)
}

// key derives this package's key from the server's secret, so that a MAC
// of a file cannot stand for any other keyed value the server makes.
func key(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("consulvote backup file mac v1"))
	return m.Sum(nil)
}

func keyID(k []byte) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// compute reads the file at path through the MAC.
func compute(path string, k []byte) (sum, error) {
	f, err := os.Open(path)
	if err != nil {
		return sum{}, err
	}
	defer f.Close()
	m := hmac.New(sha256.New, k)
	n, err := io.Copy(m, f)
	if err != nil {
		return sum{}, err
	}
	return sum{size: n, keyID: keyID(k), mac: m.Sum(nil)}, nil
}

// Sign writes the MAC of the file at path to path+Ext, mode 0600, under
// a temporary name renamed into place.
func Sign(path string, secret []byte) error {
	s, err := compute(path, key(secret))
	if err != nil {
		return fmt.Errorf("sign %s: %w", path, err)
	}
	to := path + Ext
	tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
	os.Remove(tmp)
	if err := os.WriteFile(tmp, []byte(s.String()), 0o600); err != nil {
		return fmt.Errorf("sign %s: %w", path, err)
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sign %s: %w", path, err)
	}
	return nil
}

// Verify checks the file at path against the MAC in the sidecar file mac
// (path+Ext, or that of the file path is a copy of), and says what is
// wrong: one of the errors above.
func Verify(path, mac string, secret []byte) error {
	want, err := read(mac)
	if err != nil {
		return err
	}
	k := key(secret)
	if want.keyID != keyID(k) {
		return ErrOtherKey
	}
	got, err := compute(path, k)
	if err != nil {
		return err
	}
	if got.size != want.size {
		return fmt.Errorf("%w (%d bytes, signed at %d)", ErrSize, got.size, want.size)
	}
	if !hmac.Equal(got.mac, want.mac) {
		return ErrEdited
	}
	return nil
}

// read parses a sidecar file.
func read(path string) (sum, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return sum{}, ErrMissing
	}
	if err != nil {
		return sum{}, err
	}
	line, ok := bytes.CutSuffix(b, []byte("\n"))
	f := strings.Fields(string(line))
	if !ok || len(f) != 7 || strings.Join(f[:4], " ") != magic {
		return sum{}, ErrDamaged
	}
	var s sum
	size, ok1 := strings.CutPrefix(f[4], "size=")
	id, ok2 := strings.CutPrefix(f[5], "key=")
	mac, ok3 := strings.CutPrefix(f[6], "hmac-sha256=")
	s.size, err = strconv.ParseInt(size, 10, 64)
	if err != nil || !ok1 || !ok2 || !ok3 || len(id) != 16 {
		return sum{}, ErrDamaged
	}
	s.keyID = id
	if s.mac, err = hex.DecodeString(mac); err != nil || len(s.mac) != sha256.Size {
		return sum{}, ErrDamaged
	}
	return s, nil
}
