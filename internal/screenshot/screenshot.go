// Package screenshot tells the tests of real windows whether a screenshot
// shows a painted window or a blank one.
package screenshot

import (
	"image/png"
	"os"
)

// Colours counts the distinct colours of a PNG screenshot, sampling every
// other pixel; 0 when the file is not a PNG (yet).
func Colours(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0
	}
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	return len(seen)
}
