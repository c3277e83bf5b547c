//go:build !race

package screens

const raceOn = false
