//go:build !windows && !darwin

package resources

import "os"

// fromEnvironment: here Fyne reads the user's languages from the
// environment, which LoadTranslations sets for its call.
const fromEnvironment = true

// systemLocales are the user's languages as Fyne reads them here: the
// first of LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set.
func systemLocales() []string {
	for _, env := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(env); v != "" {
			return []string{v}
		}
	}
	return nil
}
