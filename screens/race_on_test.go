//go:build race

package screens

// raceOn: the race detector slows drawing ten times; the tests that draw
// every screen run without it (make unit), where they prove what they
// prove: colours, labels and sizes, not concurrency.
const raceOn = true
