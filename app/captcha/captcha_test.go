package captcha

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestDigits(t *testing.T) {
	seen := map[byte]bool{}
	for range 200 {
		d, err := Digits(nil, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(d) != 4 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("Digits = %q, want 4 decimal digits", d)
		}
		for i := range d {
			seen[d[i]] = true
		}
	}
	if len(seen) != 10 {
		t.Errorf("800 random digits used only %d distinct values", len(seen))
	}
}

func TestDigitsDeterministicReader(t *testing.T) {
	a, _ := Digits(bytes.NewReader(bytes.Repeat([]byte{3}, 64)), 4)
	b, _ := Digits(bytes.NewReader(bytes.Repeat([]byte{3}, 64)), 4)
	if a != b {
		t.Fatalf("same random source gave %q and %q", a, b)
	}
}

func TestPNG(t *testing.T) {
	b, err := PNG("0427")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != Width || got.Y != Height {
		t.Fatalf("size %v, want %dx%d", got, Width, Height)
	}
	// The picture must not be blank: count distinct colours.
	colours := map[uint32]bool{}
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r<<16^g<<8^bl] = true
		}
	}
	if len(colours) < 3 {
		t.Fatalf("picture has %d colours, looks blank", len(colours))
	}
	for _, bad := range []string{"", "12a4", "١٢٣٤"} {
		if _, err := PNG(bad); err == nil {
			t.Errorf("PNG(%q) succeeded", bad)
		}
	}
}

// BenchmarkPNG: drawing and encoding one code's picture, the work of
// every code drawn.
func BenchmarkPNG(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PNG("0123"); err != nil {
			b.Fatal(err)
		}
	}
}
