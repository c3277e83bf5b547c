package resources

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"golang.org/x/image/draw"
)

// table reads a translation file: each key's text, or for a key with
// plural forms ({"one": …, "other": …}) each form under "key#form".
func table(t *testing.T, language string) map[string]string {
	t.Helper()
	b, err := Translation(language)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s.json: %v", language, err)
	}
	m := map[string]string{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			m[k] = s
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil || forms["other"] == "" {
			t.Fatalf("%s.json: %s is neither a text nor plural forms with \"other\"", language, k)
		}
		for f, s := range forms {
			if f != "one" && f != "other" {
				t.Fatalf("%s.json: %s: plural form %q (French and English have one and other)", language, k, f)
			}
			m[k+"#"+f] = s
		}
	}
	return m
}

func TestTranslationsComplete(t *testing.T) {
	fr, en := table(t, "fr"), table(t, "en")
	var missing []string
	for k := range fr {
		if strings.TrimSpace(en[k]) == "" {
			missing = append(missing, "en:"+k)
		}
	}
	for k, v := range en {
		if strings.TrimSpace(fr[k]) == "" {
			missing = append(missing, "fr:"+k)
		}
		// Placeholders must be the same in both languages.
		if strings.Count(v, "{{") != strings.Count(fr[k], "{{") {
			missing = append(missing, "placeholders:"+k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("untranslated: %v", missing)
	}
}

func TestLoadTranslations(t *testing.T) {
	t.Setenv("LANG", "C")
	if err := LoadTranslations("en"); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("home.login"); got != "Log in" {
		t.Errorf("en: %q", got)
	}
	if err := LoadTranslations("fr"); err != nil {
		t.Fatal(err)
	}
	if got := lang.L("home.login"); got != "Connectez-vous" {
		t.Errorf("fr: %q", got)
	}
	if got := lang.X("space.welcome", "Bonjour {{.Name}}", map[string]any{"Name": "Marie"}); got != "Bonjour Marie" {
		t.Errorf("template: %q", got)
	}
	if v := os.Getenv("LANG"); v != "C" {
		t.Errorf("LANG not restored: %q", v)
	}
	if err := LoadTranslations("de"); err == nil {
		t.Error("German accepted")
	}
}

func TestLanguage(t *testing.T) {
	if !fromEnvironment {
		t.Skip("the user's languages are in the system's settings here: TestSystemLanguage")
	}
	for _, tc := range []struct{ explicit, lang, want string }{
		{"en", "fr_FR.UTF-8", "en"},
		{"", "en_GB.UTF-8", "en"},
		{"", "fr_FR.UTF-8", "fr"},
		{"", "de_DE.UTF-8", "fr"},
		{"", "C", "fr"},
		{"", "", "fr"},
		{"de", "en_US", "en"},
	} {
		t.Setenv("LANGUAGE", "")
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", tc.lang)
		if got := Language(tc.explicit); got != tc.want {
			t.Errorf("Language(%q) with LANG=%q = %q, want %q", tc.explicit, tc.lang, got, tc.want)
		}
	}
}

// TestSystemLanguage: without a choice, the system's first language
// decides, as Fyne reads it (Windows' and macOS' settings). make
// test-windows runs it under Wine with a French and an English Windows,
// CONSULVOTE_SYSTEM_LANGUAGE saying which.
func TestSystemLanguage(t *testing.T) {
	want := os.Getenv("CONSULVOTE_SYSTEM_LANGUAGE")
	if want == "" {
		t.Skip("CONSULVOTE_SYSTEM_LANGUAGE unset: make test-windows sets it under Wine")
	}
	if got := Language(""); got != want {
		t.Errorf("Language(\"\") = %q under the system's languages %q, want %q", got, systemLocales(), want)
	}
	if got := Language("fr"); got != "fr" {
		t.Errorf("Language(\"fr\") = %q", got)
	}
}

// TestSmallIconIsIcon: the toolbar's icon, drawn from SmallIcon, is the
// icon drawn from Icon.png at every size it is drawn at (20 units at scales
// from 0.8 to 3): Fyne scales both with draw.CatmullRom. Compared
// premultiplied, as they show once blended: within 2 of 255.
func TestSmallIconIsIcon(t *testing.T) {
	decode := func(name string, b []byte) image.Image {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return img
	}
	b, err := os.ReadFile("Icon.png")
	if err != nil {
		t.Fatal(err)
	}
	big, small := decode("Icon.png", b), decode(SmallIcon.Name(), SmallIcon.Content())
	if got := small.Bounds().Size(); got != image.Pt(256, 256) {
		t.Fatalf("SmallIcon is %v pixels, want 256×256", got)
	}
	scale := func(src image.Image, n int) *image.RGBA {
		dst := image.NewRGBA(image.Rect(0, 0, n, n)) // premultiplied
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
		return dst
	}
	for n := 16; n <= 60; n++ {
		a, b := scale(big, n), scale(small, n)
		worst := 0
		for i := range a.Pix {
			worst = max(worst, int(a.Pix[i])-int(b.Pix[i]), int(b.Pix[i])-int(a.Pix[i]))
		}
		if worst > 2 {
			t.Errorf("at %d pixels a channel differs by %d of 255", n, worst)
		}
	}
}
