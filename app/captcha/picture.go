package captcha

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// The picture is drawn as base64Captcha's digit driver draws it
// (github.com/mojocn/base64Captcha v1.3.8, driver_digit.go and
// item_digit.go, Copyright 2017 Eric Zhou, Apache License 2.0), kept here
// in its few lines: that package decodes ten embedded fonts (6 MiB, 3 to
// 20 ms) when any program that links it starts, the app included, and
// adds 5.9 MB to its binary, for pictures that use none of them.
//
// The randomness of the drawing is math/rand's, as there: the digits
// themselves come from Digits.

// glyphs are the digits' dot matrices, 11 dots wide and 18 high: one row
// a number, its leftmost dot the highest of 11 bits.
var glyphs = [10][glyphHeight]uint16{
	{0x0f8, 0x1fc, 0x38e, 0x306, 0x706, 0x603, 0x603, 0x603, 0x603, 0x603, 0x603, 0x603, 0x603, 0x607, 0x306, 0x38e, 0x1fc, 0x0f8}, // 0
	{0x030, 0x070, 0x0f0, 0x1f0, 0x1b0, 0x130, 0x030, 0x030, 0x030, 0x030, 0x030, 0x030, 0x030, 0x030, 0x030, 0x030, 0x3ff, 0x3ff}, // 1
	{0x0f0, 0x3fc, 0x70e, 0x206, 0x006, 0x006, 0x006, 0x00c, 0x00c, 0x018, 0x030, 0x070, 0x0e0, 0x1c0, 0x380, 0x300, 0x7ff, 0x7ff}, // 2
	{0x1f8, 0x7fc, 0x60e, 0x006, 0x006, 0x006, 0x01c, 0x1f0, 0x1fc, 0x00e, 0x007, 0x003, 0x003, 0x003, 0x007, 0x40e, 0x7fc, 0x3f8}, // 3
	{0x00c, 0x01c, 0x03c, 0x02c, 0x06c, 0x0cc, 0x0cc, 0x18c, 0x30c, 0x30c, 0x60c, 0x40c, 0x7ff, 0x7ff, 0x00c, 0x00c, 0x00c, 0x00c}, // 4
	{0x3fe, 0x3fe, 0x300, 0x300, 0x300, 0x300, 0x3f8, 0x3fc, 0x00e, 0x007, 0x003, 0x003, 0x003, 0x003, 0x007, 0x60e, 0x7fc, 0x1f8}, // 5
	{0x03e, 0x0fe, 0x1c0, 0x300, 0x300, 0x200, 0x678, 0x6fe, 0x786, 0x707, 0x603, 0x603, 0x603, 0x603, 0x307, 0x38e, 0x1fc, 0x0f8}, // 6
	{0x7ff, 0x7ff, 0x703, 0x606, 0x006, 0x00e, 0x00c, 0x00c, 0x018, 0x018, 0x038, 0x030, 0x070, 0x060, 0x060, 0x0e0, 0x0c0, 0x1c0}, // 7
	{0x0f8, 0x1fe, 0x387, 0x303, 0x303, 0x303, 0x186, 0x1fc, 0x078, 0x1dc, 0x38e, 0x707, 0x603, 0x603, 0x603, 0x706, 0x3fe, 0x0f8}, // 8
	{0x0f8, 0x3fc, 0x30e, 0x606, 0x603, 0x603, 0x603, 0x607, 0x30f, 0x3fb, 0x0f3, 0x003, 0x006, 0x006, 0x00e, 0x01c, 0x3f8, 0x3e0}, // 9
}

const (
	glyphWidth  = 11
	glyphHeight = 18
)

// drawing is one picture being drawn: dot is the size of a glyph's dot,
// w and h a digit's size, in pixels.
type drawing struct {
	*image.Paletted
	dots          int // how many noise circles, and colours beside the ink
	dot, w, h     int
	maxSkew       float64
	width, height int
}

// draw draws digits ('0'–'9', checked by the caller) skewed, struck
// through, waved and sprinkled with dots circles.
func draw(digits string, width, height, dots int, maxSkew float64) *image.Paletted {
	d := &drawing{dots: dots, maxSkew: maxSkew, width: width, height: height}
	d.Paletted = image.NewPaletted(image.Rect(0, 0, width, height), palette(dots))
	d.sizes(len(digits))
	maxx := width - (d.w+d.dot)*len(digits) - d.dot
	maxy := height - d.h - d.dot*2
	border := min(width, height) / 5
	x := rand.IntN(maxx-border*2) + border
	y := rand.IntN(maxy-border*2) + border
	for _, c := range digits {
		d.digit(glyphs[c-'0'], x, y)
		x += d.w + d.dot
	}
	d.strikeThrough()
	d.distort(between(5, 10), between(100, 200))
	d.circles(dots, d.dot)
	return d.Paletted
}

// palette is transparent, the ink, and the circles' colours: the ink
// made lighter or darker.
func palette(dots int) color.Palette {
	p := make(color.Palette, dots+1)
	p[0] = color.RGBA{0xFF, 0xFF, 0xFF, 0x00}
	ink := color.RGBA{uint8(rand.IntN(129)), uint8(rand.IntN(129)), uint8(rand.IntN(129)), 0xFF}
	if dots == 0 {
		p[0] = ink
		return p
	}
	p[1] = ink
	lo, hi := min(ink.R, ink.G, ink.B), max(ink.R, ink.G, ink.B)
	for i := 2; i <= dots; i++ {
		n := rand.IntN(int(255-hi)) - int(lo)
		p[i] = color.RGBA{uint8(int(ink.R) + n), uint8(int(ink.G) + n), uint8(int(ink.B) + n), ink.A}
	}
	return p
}

// sizes fits n digits, a dot apart, inside the picture less a border.
func (d *drawing) sizes(n int) {
	border := min(d.width, d.height) / 4
	w, h := float64(d.width-border*2), float64(d.height-border*2)
	fw, fh := float64(glyphWidth+1), float64(glyphHeight)
	nw := w / float64(n)
	nh := nw * fh / fw
	if nh > h {
		nh = h
		nw = fw / fh * nh
	}
	d.dot = max(int(nh/fh), 1)
	d.w, d.h = int(nw)-d.dot, int(nh)
}

func (d *drawing) hline(x0, x1, y int, c uint8) {
	for x := x0; x <= x1; x++ {
		d.SetColorIndex(x, y, c)
	}
}

// circle fills a circle (the midpoint algorithm).
func (d *drawing) circle(x, y, r int, c uint8) {
	f, dfx, dfy, xo, yo := 1-r, 1, -2*r, 0, r
	d.SetColorIndex(x, y+r, c)
	d.SetColorIndex(x, y-r, c)
	d.hline(x-r, x+r, y, c)
	for xo < yo {
		if f >= 0 {
			yo--
			dfy += 2
			f += dfy
		}
		xo++
		dfx += 2
		f += dfx
		d.hline(x-xo, x+xo, y+yo, c)
		d.hline(x-xo, x+xo, y-yo, c)
		d.hline(x-yo, x+yo, y+xo, c)
		d.hline(x-yo, x+yo, y-xo, c)
	}
}

func (d *drawing) circles(n, maxr int) {
	b := d.Bounds().Max
	for range n {
		c := uint8(intBetween(1, d.dots-1))
		r := intBetween(1, maxr)
		d.circle(intBetween(r, b.X-r), intBetween(r, b.Y-r), r, c)
	}
}

func (d *drawing) strikeThrough() {
	b := d.Bounds().Max
	y := intBetween(b.Y/3, b.Y-b.Y/3)
	amplitude, period := between(5, 20), between(80, 180)
	dx := 2.0 * math.Pi / period
	for x := range b.X {
		xo := amplitude * math.Cos(float64(y)*dx)
		yo := amplitude * math.Sin(float64(x)*dx)
		for yn := range d.dot {
			d.circle(x+int(xo), y+int(yo)+yn*d.dot, rand.IntN(d.dot)/2, 1)
		}
	}
}

// digit draws a glyph's dots as circles, each row shifted by the skew.
func (d *drawing) digit(g [glyphHeight]uint16, x, y int) {
	skew := between(-d.maxSkew, d.maxSkew)
	xs := float64(x)
	r := d.dot / 2
	y += intBetween(-r, r)
	for yo, row := range g {
		for xo := range glyphWidth {
			if row&(1<<(glyphWidth-1-xo)) != 0 {
				d.circle(x+xo*d.dot, y+yo*d.dot, r, 1)
			}
		}
		xs += skew
		x = int(xs)
	}
}

// distort waves the picture.
func (d *drawing) distort(amplitude, period float64) {
	b := d.Bounds().Max
	waved := image.NewPaletted(image.Rect(0, 0, b.X, b.Y), d.Palette)
	dx := 2.0 * math.Pi / period
	// The shift across depends on the row only, the one down on the
	// column only: one sine a row and one cosine a column, not a pair a
	// pixel. The pixels are read and written in Pix, row by row (both
	// pictures start at 0, 0); one from outside the picture stays
	// transparent (0), as ColorIndexAt reads it.
	xo, yo := make([]int, b.Y), make([]int, b.X)
	for y := range xo {
		xo[y] = int(amplitude * math.Sin(float64(y)*dx))
	}
	for x := range yo {
		yo[x] = int(amplitude * math.Cos(float64(x)*dx))
	}
	for y := range b.Y {
		row := waved.Pix[y*waved.Stride:]
		for x := range b.X {
			if sx, sy := x+xo[y], y+yo[x]; sx >= 0 && sx < b.X && sy >= 0 && sy < b.Y {
				row[x] = d.Pix[sy*d.Stride+sx]
			}
		}
	}
	d.Paletted = waved
}

func between(lo, hi float64) float64 { return rand.Float64()*(hi-lo) + lo }

// intBetween is in [lo, hi), or lo when that is empty.
func intBetween(lo, hi int) int {
	if hi-lo <= 0 {
		return lo
	}
	return rand.IntN(hi-lo) + lo
}
