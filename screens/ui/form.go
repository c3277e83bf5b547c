package ui

import (
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// Summarize says at the top of the page which fields need correcting, in
// reading order, and takes the user to the first; no fields clears it.
func (n *Nav) Summarize(wrong []*Field) {
	if n.Summary == nil || len(wrong) > 0 && !n.OnPage(wrong[0].Entry) {
		return // a page left while its call ran
	}
	if len(wrong) == 0 {
		n.Summary.Set("", widget.MediumImportance)
		return
	}
	d := fyne.CurrentApp().Driver()
	sort.SliceStable(wrong, func(i, j int) bool {
		return d.AbsolutePositionForObject(wrong[i].Entry).Y < d.AbsolutePositionForObject(wrong[j].Entry).Y
	})
	names := make([]string, 0, len(wrong))
	for _, f := range wrong {
		if !slices.Contains(names, f.Label.Text) {
			names = append(names, f.Label.Text)
		}
	}
	n.Summary.Set(lang.XN("form.errors", "", len(names), map[string]any{"Count": len(names), "Fields": strings.Join(names, ", ")}),
		widget.DangerImportance)
	n.Failed(wrong[0], n.Summary.Label, wrong[0].Err)
}

// Failed is how every form shows that its submit failed (RGAA 11.10): what
// went wrong (the summary naming the fields to correct, or the page's
// message) is scrolled into view and said, then the field to correct gets
// the focus, scrolled so that it and its message are both in view. Fyne
// 2.8.1 has no live region for a screen reader (fyne.AccessibleRole knows
// button, container, link and text): a reader says the name of what gets
// the focus, so the message is said as part of the field's name.
func (n *Nav) Failed(f *Field, said, below *widget.Label) {
	if !n.OnPage(f.Entry) {
		return // a page left while its call ran
	}
	n.Reveal(said)
	if below != f.Err {
		f.SetError("")
		f.Entry.Label = f.Label.Text + " — " + below.Text
	}
	n.win.Canvas().Focus(f.Entry)
	n.Reveal(f.Label, f.Entry, below)
}
