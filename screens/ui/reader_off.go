//go:build !accessibility || (!windows && !darwin)

package ui

// platformReaderOrder: no bridge walks the window (Fyne 2.8.1 has none on
// Linux, and none without -tags accessibility): the proxies are not built.
const platformReaderOrder = ReaderOff
