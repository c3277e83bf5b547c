//go:build race

package service_test

// Under the race detector the large imports skip (withoutRace).
const raceEnabled = true
