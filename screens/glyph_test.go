package screens

import (
	"bytes"
	"encoding/json"
	"testing"

	"fyne.io/fyne/v2"
	"github.com/go-text/typesetting/font"

	"consulvote/resources"
	"consulvote/screens/ui"
)

// TestTranslationsInThemeFont: every character of every text, in both
// languages, has a glyph in each face the theme draws text with (a
// missing one is drawn as a broken box: "→" once was, in the office).
func TestTranslationsInThemeFont(t *testing.T) {
	var faces []*font.Face
	for _, st := range []fyne.TextStyle{{}, {Bold: true}, {Italic: true}, {Bold: true, Italic: true}} {
		f, err := font.ParseTTF(bytes.NewReader(ui.Theme{}.Font(st).Content()))
		if err != nil {
			t.Fatal(err)
		}
		faces = append(faces, f)
	}
	for _, language := range []string{"fr", "en"} {
		b, err := resources.Translation(language)
		if err != nil {
			t.Fatal(err)
		}
		var texts map[string]any
		if err := json.Unmarshal(b, &texts); err != nil {
			t.Fatal(err)
		}
		for key, v := range texts {
			forms, ok := v.(map[string]any) // plural forms
			if !ok {
				forms = map[string]any{"": v}
			}
			for _, text := range forms {
				for _, r := range text.(string) {
					for i, f := range faces {
						if _, ok := f.NominalGlyph(r); !ok && r != '\n' {
							t.Errorf("%s %s: %q has no glyph in face %d", language, key, r, i)
						}
					}
				}
			}
		}
	}
}
