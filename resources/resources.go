// Package resources holds what the app embeds: its icon and its
// translations (French by default, English complete).
package resources

import (
	"embed"
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

//go:embed Icon-256.png
var smallIconPNG []byte

//go:embed translations
var translations embed.FS

// SmallIcon is the application icon, Icon.png (the packages'), at 256
// pixels (scaled by draw.CatmullRom), for the window and the toolbar. Before the first frame, Fyne decodes the
// window's icon and hands it to the window system (7 ms for Icon's 512
// pixels; 256 is the size Fyne draws windows' icons at from an SVG), and
// scales the toolbar's on the CPU (5 ms from 512 pixels, 1.2 ms from
// 256, for the same icon: TestSmallIconIsIcon).
var SmallIcon = fyne.NewStaticResource("Icon-256.png", smallIconPNG)

// Languages are the languages the app speaks; the first is the default.
var Languages = []string{"fr", "en"}

// Language picks the UI language: the explicit choice if it is one of
// Languages, else English for a user whose system asks for English first,
// else French. "C" and "POSIX" locales get French.
func Language(explicit string) string {
	for _, l := range Languages {
		if explicit == l {
			return l
		}
	}
	if locales := systemLocales(); len(locales) > 0 && strings.HasPrefix(locales[0], "en") {
		return "en"
	}
	return Languages[0]
}

// LoadTranslations loads the translations and makes language (one of
// Languages) the one lang.L answers in.
//
// Fyne picks its language from the user's languages when translations
// are added, and falls back to English. On Linux it reads them from the
// environment: the environment says language for that one call, and is
// put back after. On Windows and macOS it reads the system's settings:
// language's messages are also added under the system's languages, the
// ones Fyne picks from.
func LoadTranslations(language string) error {
	known := false
	for _, l := range Languages {
		known = known || l == language
	}
	if !known {
		return fmt.Errorf("resources: no %q translation (have %v)", language, Languages)
	}
	saved := map[string]*string{}
	for _, env := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := os.LookupEnv(env); ok {
			saved[env] = &v
		} else {
			saved[env] = nil
		}
		os.Unsetenv(env)
	}
	os.Setenv("LANG", language)
	defer func() {
		for env, v := range saved {
			if v == nil {
				os.Unsetenv(env)
			} else {
				os.Setenv(env, *v)
			}
		}
	}()
	if err := lang.AddTranslationsFS(translations, "translations"); err != nil {
		return fmt.Errorf("resources: translations: %w", err)
	}
	if fromEnvironment {
		return nil
	}
	data, err := Translation(language)
	if err != nil {
		return fmt.Errorf("resources: translations: %w", err)
	}
	for _, l := range systemLocales() {
		// The language alone ("fr" of "fr-CA"): Fyne matches it to its
		// own translations of that language, whose widget texts stay.
		base, _, _ := strings.Cut(strings.ReplaceAll(l, "_", "-"), "-")
		if base == "" || base == "C" || base == "POSIX" {
			continue
		}
		if err := lang.AddTranslationsForLocale(data, fyne.Locale(strings.ToLower(base))); err != nil {
			return fmt.Errorf("resources: translations for %s: %w", l, err)
		}
	}
	return nil
}

// Translation returns the raw translation table of language, for tests
// that check every key is translated.
func Translation(language string) ([]byte, error) {
	return translations.ReadFile("translations/" + language + ".json")
}
