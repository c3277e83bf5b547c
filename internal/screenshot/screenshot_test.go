package screenshot

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestColours(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, img image.Image) string {
		p := filepath.Join(dir, name)
		f, _ := os.Create(p)
		png.Encode(f, img)
		f.Close()
		return p
	}
	blank := image.NewRGBA(image.Rect(0, 0, 40, 40))
	painted := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for x := 0; x < 40; x++ {
		for y := 0; y < 40; y++ {
			painted.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 6), 0, 255})
		}
	}
	if n := Colours(write("blank.png", blank)); n != 1 {
		t.Errorf("blank: %d colours", n)
	}
	if n := Colours(write("painted.png", painted)); n != 400 {
		t.Errorf("painted: %d colours, want 400 (every other pixel of 40x40)", n)
	}
	if n := Colours(filepath.Join(dir, "missing.png")); n != 0 {
		t.Errorf("missing: %d", n)
	}
}
