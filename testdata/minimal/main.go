// Command minimal is the smallest Fyne window, the yardstick for the
// app's start-up time and memory (BenchmarkStartup).
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("fr.consulvote.minimal")
	w := a.NewWindow("minimal consulvote yardstick")
	w.SetContent(widget.NewLabel("Bonjour"))
	w.Resize(fyne.NewSize(760, 840))
	w.ShowAndRun()
}
