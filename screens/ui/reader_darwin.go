//go:build accessibility && darwin

package ui

// platformReaderOrder: VoiceOver moves through the tree with its own keys
// (see reader.go).
const platformReaderOrder = ReadingOrder
