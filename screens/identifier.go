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
)

// identifierScreen is E6: the new identifier, shown once.
type identifierScreen struct {
	u          *UI
	renewal    portal.Renewal
	identifier *widget.Label
	spell      *button
	spelled    *widget.Label
	copyBtn    *button
	save       *button
	home       *button
	msg        *message
	kept       bool // copied or saved: leaving needs no warning
}

func newIdentifier(u *UI, r portal.Renewal) *identifierScreen {
	s := &identifierScreen{u: u, renewal: r, msg: newMessage()}
	// In groups of four, for the eye; Copier copies it without spaces.
	s.identifier = widget.NewLabelWithStyle(group(r.Identifier), fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	s.identifier.SizeName = theme.SizeNameHeadingText
	s.identifier.Selectable = true
	s.spelled = wrapped(spell(r.Identifier))
	s.spelled.Hide()
	s.spell = u.button(lang.L("identifier.spell"), theme.VisibilityIcon(), func() {
		if s.spelled.Visible() {
			s.spelled.Hide()
		} else {
			s.spelled.Show()
		}
	})
	s.copyBtn = u.button(lang.L("identifier.copy"), theme.ContentCopyIcon(), s.copy)
	s.copyBtn.Importance = widget.HighImportance
	s.save = u.button(lang.L("identifier.save"), theme.DocumentSaveIcon(), s.saveToKeychain)
	s.home = u.button(lang.L("common.home"), nil, u.home)
	return s
}

func (s *identifierScreen) page() *page {
	c := container.NewVBox(
		heading(lang.L("identifier.intro")),
		container.NewThemeOverride(s.identifier, legibleTheme{}),
		s.spelled,
		wrapped(lang.L("identifier.keep")),
		container.NewHBox(s.copyBtn, s.save, s.spell),
		s.msg.label,
		widget.NewSeparator(),
		container.NewHBox(s.home),
	)
	return &page{title: lang.L("identifier.page"), content: c, focus: s.copyBtn, screen: s, leave: s.leave}
}

func (s *identifierScreen) copy() {
	s.u.app.Clipboard().SetContent(s.renewal.Identifier)
	s.kept = true
	s.msg.set(lang.L("identifier.copied"), widget.SuccessImportance)
}

func (s *identifierScreen) saveToKeychain() {
	if s.u.opt.Keychain == nil {
		s.msg.set(lang.L("identifier.no_keychain"), widget.WarningImportance)
		return
	}
	s.save.Disable()
	call(s.u, func(context.Context) (struct{}, error) {
		return struct{}{}, s.u.opt.Keychain.Save(s.renewal.NUMIC, s.renewal.Identifier)
	}, func(_ struct{}, err error) {
		s.save.Enable()
		if err != nil {
			s.msg.set(lang.L("identifier.no_keychain"), widget.WarningImportance)
			return
		}
		rememberNUMIC(s.u.app, s.renewal.NUMIC)
		s.kept = true
		s.msg.set(lang.L("identifier.saved"), widget.SuccessImportance)
	})
}

// leave warns before the identifier is gone for good, unless it was
// copied or saved.
func (s *identifierScreen) leave(proceed func()) {
	if s.kept {
		proceed()
		return
	}
	s.u.ask(lang.L("identifier.leave_title"), lang.L("identifier.leave_text"),
		lang.L("identifier.leave_no"), lang.L("identifier.leave_yes"), func() {
			s.kept = true
			proceed()
		})
}

// legibleTheme shows the identifier large. Its face is Fyne's monospace
// (DejaVu Sans Mono), whose 0 has a dot that O has not and whose 1, l
// and I differ (TestIdentifierFontTellsZeroFromO).
// It follows the app's theme for everything but that size.
type legibleTheme struct{}

func appTheme() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (legibleTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return appTheme().Color(n, v)
}
func (legibleTheme) Font(s fyne.TextStyle) fyne.Resource     { return appTheme().Font(s) }
func (legibleTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return appTheme().Icon(n) }

func (legibleTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameHeadingText {
		return 32
	}
	return appTheme().Size(n)
}

// group writes id in groups of four characters.
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

// spell says each character of id as words, in the UI's language, group
// by group: "h minuscule, q minuscule, six, sept".
func spell(id string) string {
	var groups []string
	var words []string
	for i, r := range []rune(id) {
		if i > 0 && i%4 == 0 {
			groups = append(groups, strings.Join(words, ", "))
			words = nil
		}
		switch {
		case r >= '0' && r <= '9':
			words = append(words, lang.L("spell.digit."+string(r)))
		case unicode.IsUpper(r):
			words = append(words, lang.X("spell.upper", "", map[string]any{"Letter": string(r)}))
		case unicode.IsLower(r):
			words = append(words, lang.X("spell.lower", "", map[string]any{"Letter": string(r)}))
		default:
			words = append(words, string(r))
		}
	}
	groups = append(groups, strings.Join(words, ", "))
	return strings.Join(groups, " — ")
}
