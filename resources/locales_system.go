//go:build windows || darwin

package resources

import "github.com/jeandeaual/go-locale"

// fromEnvironment: Windows and macOS keep the user's languages in the
// system's settings, where Fyne reads them, not in the environment.
const fromEnvironment = false

// systemLocales are the user's languages as Fyne reads them (it uses this
// library), preferred first.
func systemLocales() []string {
	locales, err := locale.GetLocales()
	if err != nil {
		return nil
	}
	return locales
}
