// Package localeenv keeps Fyne from printing a locale error at start-up
// under the "C.UTF-8" locale of many servers and containers.
//
// Fyne reads the locale while its packages initialise, before main runs,
// and cannot parse "C.UTF-8". Go initialises, among the packages whose
// imports are ready, the one with the smallest import path first: this
// package ("consulvote/...", importing only os and strings) therefore
// initialises before any "fyne.io/..." package, if main imports it.
package localeenv

import (
	"os"
	"strings"
)

func init() {
	Fix()
}

// Fix sets LANGUAGE to French when it is unset and the locale is a "C" or
// "POSIX" variant: gettext-style readers, Fyne's among them, then read
// LANGUAGE instead of the unparseable locale. LANG and LC_* are left
// alone, so character handling is unchanged.
func Fix() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(env)
		if v == "" {
			continue
		}
		base, _, _ := strings.Cut(v, ".")
		if (base == "C" || base == "POSIX") && v != base {
			os.Setenv("LANGUAGE", "fr")
		}
		return
	}
}
