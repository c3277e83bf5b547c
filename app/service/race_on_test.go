//go:build race

package service_test

// Under the race detector the large import runs on a tenth of the roll.
const raceEnabled = true
