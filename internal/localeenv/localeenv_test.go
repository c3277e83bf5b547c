package localeenv

import (
	"os"
	"testing"
)

func TestFix(t *testing.T) {
	for _, tc := range []struct{ lcAll, lang, language, want string }{
		{"", "C.UTF-8", "", "fr"},
		{"", "POSIX.utf8", "", "fr"},
		{"", "C", "", ""}, // Fyne reads plain C fine
		{"", "en_GB.UTF-8", "", ""},
		{"", "C.UTF-8", "en", "en"}, // an explicit LANGUAGE wins
		{"fr_FR.UTF-8", "C.UTF-8", "", ""},
	} {
		t.Setenv("LC_ALL", tc.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", tc.lang)
		t.Setenv("LANGUAGE", tc.language)
		Fix()
		if got := os.Getenv("LANGUAGE"); got != tc.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: LANGUAGE = %q, want %q", tc.lcAll, tc.lang, tc.language, got, tc.want)
		}
	}
}
