package screens

import (
	"os"
	"strconv"

	"fyne.io/fyne/v2"
)

// FitWindow sizes w by WindowSize for the scale it is drawn at, once
// shown: the user's scale times the screen's (its density), which only
// the shown window knows.
func FitWindow(w fyne.Window) { w.Resize(WindowSize(w.Canvas().Scale())) }

// UserScale is the scale the user asked for, as Fyne reads it: FYNE_SCALE,
// else the app's settings, else 1.
func UserScale(a fyne.App) float32 {
	if v, err := strconv.ParseFloat(os.Getenv("FYNE_SCALE"), 32); err == nil && v > 0 {
		return float32(v)
	}
	if s := a.Settings().Scale(); s > 0 {
		return s
	}
	return 1
}

// WindowSize is the window's first size, in Fyne's units, for the user's
// scale (FYNE_SCALE; 1 when unset): at most 960×690 screen pixels, so
// that it fits a 1024×768 screen at 100 % and a 1366×768 one at 150 and
// 200 %. The pages scroll, and the toolbar folds, to fit it.
func WindowSize(scale float32) fyne.Size {
	if scale <= 0 {
		scale = 1
	}
	return fyne.NewSize(960/max(scale, 1), min(640, 690/scale))
}
