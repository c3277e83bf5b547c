//go:build accessibility && darwin

package screens

// platformReaderOrder: VoiceOver moves through the tree with its own keys
// (see reader.go).
const platformReaderOrder = readingOrder
