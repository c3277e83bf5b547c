//go:build race

package captcha

// raceOn: the recogniser's FFTs are ten times slower under the race
// detector and share nothing between goroutines; it runs in make unit.
const raceOn = true
