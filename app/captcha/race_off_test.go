//go:build !race

package captcha

const raceOn = false
