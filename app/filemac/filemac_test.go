package filemac

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestVerify: the file as signed passes; each change is refused with its
// own error.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	secret, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	path := filepath.Join(dir, "portal.db")
	data := bytes.Repeat([]byte("0123456789abcdef"), 10_000)
	os.WriteFile(path, data, 0o600)
	if err := Sign(path, secret); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + Ext); err != nil || st.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Fatalf("sidecar: %v %v", st, err)
	}
	if err := Verify(path, path+Ext, secret); err != nil {
		t.Fatalf("as signed: %v", err)
	}
	sidecar, _ := os.ReadFile(path + Ext)
	flipped := bytes.Clone(sidecar)
	if flipped[len(flipped)-2] == '0' {
		flipped[len(flipped)-2] = '1'
	} else {
		flipped[len(flipped)-2] = '0'
	}
	edited := bytes.Clone(data)
	edited[len(edited)/2] ^= 1
	for _, c := range []struct {
		name          string
		data, sidecar []byte
		secret        []byte
		want          error
	}{
		{"one bit", edited, sidecar, secret, ErrEdited},
		{"cut short", data[:len(data)-4096], sidecar, secret, ErrSize},
		{"extended", append(bytes.Clone(data), 0), sidecar, secret, ErrSize},
		{"another key", data, sidecar, other, ErrOtherKey},
		{"no sidecar", data, nil, secret, ErrMissing},
		{"sidecar cut", data, sidecar[:len(sidecar)-10], secret, ErrDamaged},
		{"sidecar's MAC changed", data, flipped, secret, ErrEdited},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.data, 0o600)
		if c.sidecar != nil {
			os.WriteFile(p+Ext, c.sidecar, 0o600)
		}
		if err := Verify(p, p+Ext, c.secret); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A copy is checked against its original's sidecar.
	cp := filepath.Join(dir, "copy")
	os.WriteFile(cp, data, 0o600)
	if err := Verify(cp, path+Ext, secret); err != nil {
		t.Errorf("copy: %v", err)
	}
}
