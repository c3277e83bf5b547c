package screens

import (
	"context"
	"image/color"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// identifierScreen is E6: the new identifier, shown once.
type identifierScreen struct {
	u          *UI
	renewal    portal.Renewal
	identifier *ui.ReadOnlyText
	spell      *ui.Button
	spelled    *fyne.Container // one line per group, shown by spell
	copyBtn    *ui.Button
	save       *ui.Button
	home       *ui.Button
	msg        *ui.Message
	kept       bool // copied or saved: leaving needs no warning
}

// identifierTextSize is the size of the identifier's characters: large,
// for people who copy it by hand.
const identifierTextSize = 32

func newIdentifier(u *UI, r portal.Renewal) *identifierScreen {
	s := &identifierScreen{u: u, renewal: r, msg: ui.NewMessage()}
	// In groups of four, for the eye, in a face that tells 0 from O and 1
	// from l and I (TestIdentifierFontTellsConfusablesApart). The keyboard
	// can select it; whatever is copied goes without the spaces.
	s.identifier = u.ReadOnlyText(group(r.Identifier))
	s.identifier.MultiLine, s.identifier.Wrapping = false, fyne.TextWrapOff
	s.identifier.TextStyle = fyne.TextStyle{Monospace: true}
	s.identifier.SetMinRowsVisible(1)
	s.identifier.Copied = func(text string) string {
		s.kept = true
		return strings.ReplaceAll(text, " ", "")
	}
	// A screen reader says it letter by letter: read as a word, it is lost.
	s.identifier.Label = lang.X("identifier.spoken", "", map[string]any{"Spelled": strings.Join(spell(r.Identifier), " ; ")})
	s.spelled = container.NewVBox()
	for _, g := range spell(r.Identifier) {
		s.spelled.Add(ui.Wrapped(g))
	}
	s.spelled.Hide()
	s.spell = u.Button(lang.L("identifier.spell"), theme.VisibilityIcon(), s.toggleSpelling)
	s.copyBtn = u.Button(lang.L("identifier.copy"), theme.ContentCopyIcon(), s.copy)
	s.copyBtn.Importance = widget.HighImportance
	s.save = u.Button(lang.L("identifier.save"), theme.DocumentSaveIcon(), s.saveToKeychain)
	s.home = u.Button(lang.L("common.home"), nil, u.Home)
	return s
}

func (s *identifierScreen) page() *ui.Page {
	// The field is as wide as the identifier, whatever the window.
	size := fyne.MeasureText(s.identifier.Text, identifierTextSize, s.identifier.TextStyle)
	pad := 2*theme.InnerPadding() + 2*theme.InputBorderSize() + 2*theme.Padding()
	shown := container.NewGridWrap(fyne.NewSize(size.Width+pad, size.Height+pad), s.identifier)
	c := container.NewVBox(
		ui.Heading(lang.L("identifier.intro")),
		container.NewHBox(container.NewThemeOverride(shown, largeText{})),
		container.NewHBox(s.spell),
		s.spelled,
		ui.Wrapped(lang.L("identifier.keep")),
		container.NewHBox(s.copyBtn, s.save),
		s.msg.Label,
		widget.NewSeparator(),
		container.NewHBox(s.home),
	)
	return &ui.Page{Title: lang.L("identifier.page"), Content: c, Focus: s.copyBtn, Screen: s, Leave: s.leave, Left: s.forget}
}

// toggleSpelling shows or hides the identifier spelled out, group by
// group.
func (s *identifierScreen) toggleSpelling() {
	if s.spelled.Visible() {
		s.spelled.Hide()
		s.spell.Label = lang.L("identifier.spell")
	} else {
		s.spelled.Show()
		s.spell.Label = lang.L("identifier.unspell")
		s.u.Reveal(s.spell, s.spelled)
	}
	s.spell.SetText(s.spell.Label)
}

func (s *identifierScreen) copy() {
	s.u.app.Clipboard().SetContent(s.renewal.Identifier)
	s.kept = true
	s.msg.Set(lang.L("identifier.copied"), widget.SuccessImportance)
	s.u.Reveal(s.copyBtn, s.msg.Label)
}

func (s *identifierScreen) saveToKeychain() {
	if s.u.opt.Keychain == nil {
		s.msg.Set(lang.L("identifier.no_keychain"), widget.WarningImportance)
		return
	}
	s.save.Disable()
	ui.Call(s.u.calls, func(context.Context) (struct{}, error) {
		return struct{}{}, s.u.opt.Keychain.Save(s.renewal.NUMIC, s.renewal.Identifier)
	}, func(_ struct{}, err error) {
		s.save.Enable()
		if err != nil {
			s.msg.Set(lang.L("identifier.no_keychain"), widget.WarningImportance)
			s.u.Reveal(s.save, s.msg.Label)
			return
		}
		rememberNUMIC(s.u.app, s.renewal.NUMIC)
		s.kept = true
		s.msg.Set(lang.L("identifier.saved"), widget.SuccessImportance)
		s.u.Reveal(s.save, s.msg.Label)
	})
}

// leave warns before the identifier is gone for good, unless it was
// copied or saved.
func (s *identifierScreen) leave(proceed func()) {
	if s.kept {
		proceed()
		return
	}
	s.u.Ask(lang.L("identifier.leave_title"), lang.L("identifier.leave_text"),
		lang.L("identifier.leave_no"), lang.L("identifier.leave_yes"), func() {
			s.kept = true
			proceed()
		})
}

// forget drops the identifier once its page is off the stack: Fyne keeps
// a left page's widgets for a while, and only the voter (or the keychain)
// should keep the secret.
func (s *identifierScreen) forget() {
	s.renewal.Identifier = ""
	s.identifier.Clear()
	s.spelled.RemoveAll()
}

// largeText is the app's theme, whichever is current, with large text:
// for the identifier.
type largeText struct{}

func (largeText) current() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t largeText) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.current().Color(n, v)
}
func (t largeText) Font(s fyne.TextStyle) fyne.Resource     { return t.current().Font(s) }
func (t largeText) Icon(n fyne.ThemeIconName) fyne.Resource { return t.current().Icon(n) }
func (t largeText) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return identifierTextSize
	}
	return t.current().Size(n)
}

// group writes id in groups of four characters: "hq67 savG uH9Z".
func group(id string) string {
	var b strings.Builder
	for i, r := range []rune(id) {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// spell says id character by character in the UI's language, one line
// per group of four: "hq67 : h minuscule, q minuscule, six, sept".
func spell(id string) []string {
	var lines []string
	rs := []rune(id)
	for start := 0; start < len(rs); start += 4 {
		end := min(start+4, len(rs))
		words := make([]string, 0, 4)
		for _, r := range rs[start:end] {
			words = append(words, spellRune(r))
		}
		lines = append(lines, lang.X("spell.group", "", map[string]any{
			"Group": string(rs[start:end]), "Words": strings.Join(words, ", ")}))
	}
	return lines
}

func spellRune(r rune) string {
	letter := map[string]any{"Letter": string(r)}
	switch {
	case r >= '0' && r <= '9':
		return lang.L("spell.digit." + string(r))
	case unicode.IsUpper(r):
		return lang.X("spell.upper", "", letter)
	case unicode.IsLower(r):
		return lang.X("spell.lower", "", letter)
	}
	return string(r)
}
