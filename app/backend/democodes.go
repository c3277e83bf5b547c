package backend

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"sync"
)

// DemoCodes is where a demonstration database's security codes come
// from: a stream keyed by the database's key, the same in every run. A
// code drawn is stored nowhere (its id carries it, sealed), so this is how
// testdata/peek tells the packaging tests, which drive the real window,
// the digits the window shows: the first code of a run is the stream's
// first. A demonstration database guards nothing.
func DemoCodes(key []byte) io.Reader { return &demoCodes{key: key} }

type demoCodes struct {
	mu    sync.Mutex
	key   []byte
	block uint64
	buf   []byte
}

func (d *demoCodes) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for n := 0; n < len(p); {
		if len(d.buf) == 0 {
			m := hmac.New(sha256.New, d.key)
			m.Write(binary.BigEndian.AppendUint64([]byte("demo-security-codes"), d.block))
			d.buf, d.block = m.Sum(nil), d.block+1
		}
		c := copy(p[n:], d.buf)
		d.buf, n = d.buf[c:], n+c
	}
	return len(p), nil
}
