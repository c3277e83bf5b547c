// Package captcha makes the portal's security codes: a few random digits,
// their picture, drawn distorted so that a script cannot simply read
// them, and their sound, for voters who cannot see the picture. Checking
// an answer is the service's job: it keeps only a hash.
package captcha

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"image/png"
	"io"
	"math/big"
	"sync"
)

// Picture size in pixels: large enough to read at normal zoom.
const (
	Width  = 200
	Height = 70
)

// Digits returns n random decimal digits read from r (crypto/rand.Reader
// when r is nil).
func Digits(r io.Reader, n int) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, n)
	ten := big.NewInt(10)
	for i := range b {
		d, err := rand.Int(r, ten)
		if err != nil {
			return "", fmt.Errorf("captcha: random digit: %w", err)
		}
		b[i] = '0' + byte(d.Int64())
	}
	return string(b), nil
}

// checkDigits accepts ASCII digits only, at least one.
func checkDigits(digits string) error {
	for _, c := range digits {
		if c < '0' || c > '9' {
			return fmt.Errorf("captcha: %q is not a digit", c)
		}
	}
	if digits == "" {
		return fmt.Errorf("captcha: no digits")
	}
	return nil
}

// encoder compresses for speed (a code's picture is 2 to 4 KiB either
// way) and reuses its compressors: png.Encode took 0.6 ms and 0.8 MB a
// picture, most of a code's cost.
var encoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: new(bufferPool)}

// bufferPool is png.EncoderBufferPool on a sync.Pool.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() *png.EncoderBuffer {
	e, _ := b.p.Get().(*png.EncoderBuffer)
	return e
}

func (b *bufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }

// PNG draws digits (ASCII '0'–'9' only) as a distorted picture, with
// base64Captcha's digit driver (picture.go): skewed glyphs, a strike-through, a wave
// distortion and noise dots.
func PNG(digits string) ([]byte, error) {
	if err := checkDigits(digits); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(4 << 10)
	if err := encoder.Encode(&buf, draw(digits, Width, Height, 40, 0.6)); err != nil {
		return nil, fmt.Errorf("captcha: encode: %w", err)
	}
	return buf.Bytes(), nil
}
