//go:build accessibility && windows

package ui

// platformReaderOrder: Narrator follows Fyne's bridge, which moves its own
// focus one element on Tab (see reader.go).
const platformReaderOrder = FocusOrder
