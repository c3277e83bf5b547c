package screens

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"consulvote/screens/ui"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// luminance is the WCAG 2.1 relative luminance of c (opaque).
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is the WCAG 2.1 contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// over paints top (maybe translucent) over the opaque base, as Fyne's
// buttons blend their hover and focus tints.
func over(base, top color.Color) color.Color {
	b := color.NRGBAModel.Convert(base).(color.NRGBA)
	t := color.NRGBAModel.Convert(top).(color.NRGBA)
	a := float64(t.A) / 255
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-a) + float64(y)*a)) }
	return color.NRGBA{R: mix(b.R, t.R), G: mix(b.G, t.G), B: mix(b.B, t.B), A: 0xff}
}

// colourPair is a colour drawn on another, and the least contrast it needs.
type colourPair struct {
	name     string
	fg, bg   color.Color
	minRatio float64
}

// themePairs lists every pair of colours the screens draw text (4.5:1)
// or a mark that must be seen (3:1) with, in variant v of th.
func themePairs(th fyne.Theme, v fyne.ThemeVariant) []colourPair {
	c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, v) }
	bg, overlay, input := c(theme.ColorNameBackground), c(theme.ColorNameOverlayBackground), c(theme.ColorNameInputBackground)
	btn, primary := c(theme.ColorNameButton), c(theme.ColorNamePrimary)
	var pairs []colourPair
	text := func(name string, fg color.Color, bgs map[string]color.Color) {
		names := make([]string, 0, len(bgs))
		for n := range bgs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, bgName := range names {
			pairs = append(pairs, colourPair{name + " on " + bgName, fg, bgs[bgName], 4.5})
		}
	}
	surfaces := map[string]color.Color{"background": bg, "dialog": overlay}
	text("text", c(theme.ColorNameForeground), map[string]color.Color{
		"background": bg, "dialog": overlay, "field": input, "button": btn,
		"hovered button": over(btn, c(theme.ColorNameHover)), "highlighted menu item": over(c(theme.ColorNameMenuBackground), c(theme.ColorNameFocus)),
		"pressed button": over(btn, c(theme.ColorNamePressed)), "selection": c(theme.ColorNameSelection),
		"hovered low button": over(bg, c(theme.ColorNameHover)), "header": c(theme.ColorNameHeaderBackground),
		"menu": c(theme.ColorNameMenuBackground),
	})
	text("low-importance text", c(theme.ColorNameDisabled), surfaces)
	text("disabled button text", c(theme.ColorNameDisabled), map[string]color.Color{"disabled button": c(theme.ColorNameDisabledButton)})
	text("placeholder", c(theme.ColorNamePlaceHolder), map[string]color.Color{"field": input})
	text("error", c(theme.ColorNameError), surfaces)
	text("warning", c(theme.ColorNameWarning), surfaces)
	text("success", c(theme.ColorNameSuccess), surfaces)
	text("high-importance text", primary, surfaces)
	text("link", c(theme.ColorNameHyperlink), surfaces)
	text("primary button text", c(theme.ColorNameForegroundOnPrimary), map[string]color.Color{
		"primary button": primary, "hovered primary button": over(primary, c(theme.ColorNameHover)),
	})
	text("text on error", c(theme.ColorNameForegroundOnError), map[string]color.Color{"error button": c(theme.ColorNameError)})
	text("text on warning", c(theme.ColorNameForegroundOnWarning), map[string]color.Color{"warning button": c(theme.ColorNameWarning)})
	text("text on success", c(theme.ColorNameForegroundOnSuccess), map[string]color.Color{"success button": c(theme.ColorNameSuccess)})
	pairs = append(pairs,
		colourPair{"focus ring on background", c(ui.ColorNameFocusRing), bg, 3},
		// A menu's item under the keyboard (Fyne draws it in the focus
		// colour; the app's buttons do not use it: the ring marks them).
		colourPair{"highlighted menu item on menu", over(c(theme.ColorNameMenuBackground), c(theme.ColorNameFocus)), c(theme.ColorNameMenuBackground), 3},
		colourPair{"focus ring on dialog", c(ui.ColorNameFocusRing), overlay, 3},
		colourPair{"field border on background", c(theme.ColorNameInputBorder), bg, 3},
		colourPair{"field border on field", c(theme.ColorNameInputBorder), input, 3},
		colourPair{"refusal bar on its track", c(theme.ColorNameError), input, 3},
		colourPair{"focused field border on background", primary, bg, 3},
		colourPair{"focused field border on field", primary, input, 3},
	)
	return pairs
}

// TestThemeContrast computes every pair the theme uses, in both variants.
func TestThemeContrast(t *testing.T) {
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		for _, p := range themePairs(ui.Theme{}, v) {
			if r := contrast(p.fg, p.bg); r < p.minRatio {
				t.Errorf("%s, %s: %.2f:1, want %.1f:1", variantName(v), p.name, r, p.minRatio)
			}
		}
	}
}

func variantName(v fyne.ThemeVariant) string {
	if v == theme.VariantDark {
		return "dark"
	}
	return "light"
}

// TestContrastFormula checks the formula on known values.
func TestContrastFormula(t *testing.T) {
	for _, tc := range []struct {
		a, b color.Color
		want float64
	}{
		{color.White, color.Black, 21},
		{color.Gray{Y: 0x76}, color.White, 4.54},
		{color.Gray{Y: 0x77}, color.White, 4.48},
		{color.White, color.White, 1},
	} {
		if got := contrast(tc.a, tc.b); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("contrast(%v, %v) = %.3f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestPrintContrasts prints each pair's ratio with Fyne's default theme
// and with ours, for the record: CONSULVOTE_CONTRAST=1 go test ./screens
// -run PrintContrasts -v.
func TestPrintContrasts(t *testing.T) {
	if os.Getenv("CONSULVOTE_CONTRAST") == "" {
		t.Skip("set CONSULVOTE_CONTRAST=1 to print the table")
	}
	var lines []string
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		before := themePairs(theme.DefaultTheme(), v)
		for i, p := range themePairs(ui.Theme{}, v) {
			lines = append(lines, fmt.Sprintf("%-6s %-40s %6.2f  %6.2f  (min %.1f)", variantName(v), p.name,
				contrast(before[i].fg, before[i].bg), contrast(p.fg, p.bg), p.minRatio))
		}
	}
	sort.Strings(lines)
	t.Log("variant pair  Fyne-default  ours\n" + strings.Join(lines, "\n"))
}
