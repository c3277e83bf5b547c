package ui

import (
	"image/color"
	"runtime"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// ColorNameFocusRing is the outline drawn around the focused widget: 3:1
// or more against the background it sits on, in both variants (WCAG 2.1
// 1.4.11 and 2.4.7).
const ColorNameFocusRing fyne.ThemeColorName = "consulvote-focus-ring"

// Theme is the app's theme: Fyne's sizes, fonts and icons, with colours
// chosen for contrast. Every text colour is 4.5:1 or more against every
// background it is drawn on, in the light and the dark variant; see
// textPairs and TestThemeContrast. The blues, reds and greens follow the
// French state's design system (DSFR) where they meet those ratios.
type Theme struct{}

var _ fyne.Theme = Theme{}

// palette is one variant's colours.
type palette map[fyne.ThemeColorName]color.Color

func hex(v uint32) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

func hexA(v uint32, a uint8) color.NRGBA {
	c := hex(v)
	c.A = a
	return c
}

var lightPalette = palette{
	theme.ColorNameBackground:          hex(0xffffff),
	theme.ColorNameForeground:          hex(0x161616),
	theme.ColorNameButton:              hex(0xe5e5e5),
	theme.ColorNameDisabledButton:      hex(0xeeeeee),
	theme.ColorNameDisabled:            hex(0x595959), // also low-importance text
	theme.ColorNamePlaceHolder:         hex(0x595959),
	theme.ColorNameInputBackground:     hex(0xf6f6f6),
	theme.ColorNameInputBorder:         hex(0x6a6a6a),
	theme.ColorNamePrimary:             hex(0x000091), // bleu France
	theme.ColorNameForegroundOnPrimary: hex(0xffffff),
	theme.ColorNameHyperlink:           hex(0x000091),
	theme.ColorNameError:               hex(0xc9191e),
	theme.ColorNameForegroundOnError:   hex(0xffffff),
	theme.ColorNameWarning:             hex(0x8f3d00),
	theme.ColorNameForegroundOnWarning: hex(0xffffff),
	theme.ColorNameSuccess:             hex(0x18753c),
	theme.ColorNameForegroundOnSuccess: hex(0xffffff),
	theme.ColorNameFocus:               hexA(0x000091, 0x74), // a menu's highlighted item: 3:1 on the menu
	theme.ColorNameHover:               hexA(0x000000, 0x14),
	theme.ColorNamePressed:             hexA(0x000000, 0x26),
	theme.ColorNameSelection:           hex(0xc5d5f7),
	theme.ColorNameSeparator:           hex(0x929292),
	theme.ColorNameScrollBar:           hexA(0x000000, 0x99),
	theme.ColorNameScrollBarBackground: hexA(0x000000, 0x14),
	theme.ColorNameShadow:              hexA(0x000000, 0x40),
	theme.ColorNameOverlayBackground:   hex(0xffffff),
	theme.ColorNameMenuBackground:      hex(0xffffff),
	theme.ColorNameHeaderBackground:    hex(0xeeeeee),
	ColorNameFocusRing:                 hex(0x0a5fd6),
}

var darkPalette = palette{
	theme.ColorNameBackground:          hex(0x161616),
	theme.ColorNameForeground:          hex(0xeeeeee),
	theme.ColorNameButton:              hex(0x2e2e2e),
	theme.ColorNameDisabledButton:      hex(0x242424),
	theme.ColorNameDisabled:            hex(0xa6a6a6),
	theme.ColorNamePlaceHolder:         hex(0xa6a6a6),
	theme.ColorNameInputBackground:     hex(0x242424),
	theme.ColorNameInputBorder:         hex(0x8c8c8c),
	theme.ColorNamePrimary:             hex(0x8f8ff7),
	theme.ColorNameForegroundOnPrimary: hex(0x000000),
	theme.ColorNameHyperlink:           hex(0xa8a8f9),
	theme.ColorNameError:               hex(0xff6f6a),
	theme.ColorNameForegroundOnError:   hex(0x000000),
	theme.ColorNameWarning:             hex(0xfc8e45),
	theme.ColorNameForegroundOnWarning: hex(0x000000),
	theme.ColorNameSuccess:             hex(0x3ebf6b),
	theme.ColorNameForegroundOnSuccess: hex(0x000000),
	theme.ColorNameFocus:               hexA(0x8f8ff7, 0x9c),
	theme.ColorNameHover:               hexA(0xffffff, 0x14),
	theme.ColorNamePressed:             hexA(0xffffff, 0x26),
	theme.ColorNameSelection:           hex(0x2d3f73),
	theme.ColorNameSeparator:           hex(0x6a6a6a),
	theme.ColorNameScrollBar:           hexA(0xffffff, 0x99),
	theme.ColorNameScrollBarBackground: hexA(0xffffff, 0x14),
	theme.ColorNameShadow:              hexA(0x000000, 0x66),
	theme.ColorNameOverlayBackground:   hex(0x1e1e1e),
	theme.ColorNameMenuBackground:      hex(0x1e1e1e),
	theme.ColorNameHeaderBackground:    hex(0x242424),
	ColorNameFocusRing:                 hex(0x7fb0ff),
}

func paletteFor(v fyne.ThemeVariant) palette {
	if v == theme.VariantDark {
		return darkPalette
	}
	return lightPalette
}

// Color implements fyne.Theme.
func (Theme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if c, ok := paletteFor(v)[n]; ok {
		return c
	}
	return theme.DefaultTheme().Color(n, v)
}

// Font implements fyne.Theme: Fyne's fonts, whose monospace face tells
// 0 from O and 1 from l and I (TestIdentifierFontTellsConfusablesApart).
func (Theme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

// TextStyles are the styles the first screen draws text in: regular,
// bold (headings, field labels) and italic (field help).
func TextStyles() []fyne.TextStyle { return []fyne.TextStyle{{}, {Bold: true}, {Italic: true}} }

// ParseFonts sets the app's theme and has Fyne parse the fonts of
// TextStyles on a goroutine of its own. Fyne parses a style's fonts (the
// theme's, the symbols', the system's fallback) when it first measures
// text in it: 5–10 ms a style, more for the first, which reads the
// system's list of fonts. Started before the window is made, it runs
// beside the window system's start. Nothing may measure text before
// the returned wait has returned: Fyne's shaping is not safe for
// concurrent use.
//
// Not on Windows: under Wine the parse and the window system's start
// slowed each other (the first style 11 → 400 ms, glfw's start 306 →
// 560 ms), and Fyne parses the fonts when first used, as before.
func ParseFonts(a fyne.App) (wait func()) {
	a.Settings().SetTheme(Theme{})
	if runtime.GOOS == "windows" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range TextStyles() {
			fyne.MeasureText("", theme.DefaultTheme().Size(theme.SizeNameText), s)
		}
	}()
	return func() { <-done }
}

// Icon implements fyne.Theme.
func (Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

// Size implements fyne.Theme: Fyne's sizes, with entry borders thick
// enough to see.
func (Theme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameInputBorder:
		return 2
	}
	return theme.DefaultTheme().Size(n)
}

// focusRingWidth is the width of the focus outline, drawn just outside
// the widget with a one-pixel gap.
const focusRingWidth = 2
