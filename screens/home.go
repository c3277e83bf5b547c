package screens

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
)

// savedNUMICsKey is the preference listing the NUMICs whose identifier
// was saved in the keychain (a NUMIC is not a secret; the identifier stays
// in the keychain).
const savedNUMICsKey = "keychain.numics"

// homeScreen is E1: the election, the login form and the ways to recover.
type homeScreen struct {
	u          *UI
	identifier *field
	password   *field
	login      *submitButton
	msg        *message
	fill       []*button // one per identifier saved in the keychain
	lostID     *button
	lostPW     *button
	haveMail   *button
}

func newHome(u *UI) *homeScreen {
	s := &homeScreen{
		u:          u,
		identifier: newField(u, "field.identifier", "field.identifier.help", false),
		password:   newField(u, "field.password", "field.password.help", true),
		msg:        newMessage(),
	}
	s.login = u.newSubmit("home.login", s.submit)
	s.login.submitOn(s.identifier.entry, s.password.entry)
	s.lostID = u.button(lang.L("home.lost_identifier"), nil, func() { u.show(newRequest(u).page()) })
	s.lostPW = u.button(lang.L("home.lost_password"), nil, func() { u.show(newPassword(u).page()) })
	s.haveMail = u.button(lang.L("home.have_mail"), nil, func() { u.show(newPaste(u).page()) })
	for _, b := range []*button{s.lostID, s.lostPW, s.haveMail} {
		b.Importance = widget.LowImportance
	}
	if u.opt.Keychain != nil {
		for _, numic := range savedNUMICs(u.app) {
			s.fill = append(s.fill, u.button(
				lang.X("home.keychain_fill", "", map[string]any{"NUMIC": portal.MaskNUMIC(numic)}), nil,
				func() { s.fillFromKeychain(numic) }))
		}
	}
	return s
}

func (s *homeScreen) page() *page {
	title := heading(lang.L("home.title"))
	title.SizeName = theme.SizeNameHeadingText
	objs := []fyne.CanvasObject{title}
	if s.u.opt.Election != "" {
		objs = append(objs, widget.NewLabel(electionLine(s.u.opt.Election)))
	}
	objs = append(objs, wrapped(lang.L("home.welcome")), widget.NewSeparator())
	for _, b := range s.fill {
		objs = append(objs, b)
	}
	objs = append(objs,
		s.identifier.object(), container.NewHBox(s.lostID),
		s.password.object(), container.NewHBox(s.lostPW),
		s.msg.label, s.login.object(), widget.NewSeparator(), container.NewHBox(s.haveMail))
	return &page{title: lang.L("home.page"), content: container.NewVBox(objs...), focus: s.identifier.entry, screen: s}
}

func (s *homeScreen) submit() {
	s.msg.set("", widget.MediumImportance)
	id, pw := strings.TrimSpace(s.identifier.entry.Text), s.password.entry.Text
	fields := map[portal.Field]*field{portal.FieldIdentifier: s.identifier, portal.FieldPassword: s.password}
	var missing []portal.FieldError
	if id == "" {
		missing = append(missing, portal.FieldError{Field: portal.FieldIdentifier, Reason: portal.ReasonRequired})
	}
	if pw == "" {
		missing = append(missing, portal.FieldError{Field: portal.FieldPassword, Reason: portal.ReasonRequired})
	}
	if s.u.showFieldErrors(portal.InvalidInput(missing...), fields) {
		return
	}
	s.login.busy(true)
	call(s.u, func(ctx context.Context) (portal.Session, error) {
		return s.u.portal.Login(ctx, id, pw)
	}, func(sess portal.Session, err error) {
		s.login.busy(false)
		if err != nil {
			s.password.entry.SetText("")
			if s.u.showFieldErrors(err, fields) {
				return
			}
			text := s.u.errorText(err)
			if errors.Is(err, portal.ErrLocked) {
				text = s.u.lockedText("err.locked_login", err)
			}
			s.msg.set(text, widget.DangerImportance)
			s.u.failed(s.password, s.msg.label, s.msg.label)
			return
		}
		s.password.entry.SetText("")
		s.u.show(newSpace(s.u, sess).page())
	})
}

func (s *homeScreen) fillFromKeychain(numic string) {
	call(s.u, func(context.Context) (string, error) {
		return s.u.opt.Keychain.Load(numic)
	}, func(id string, err error) {
		if err != nil {
			s.msg.set(lang.L("home.keychain_failed"), widget.DangerImportance)
			return
		}
		s.identifier.entry.SetText(id)
		s.msg.set(lang.L("home.keychain_filled"), widget.SuccessImportance)
		s.u.win.Canvas().Focus(s.password.entry)
	})
}

func savedNUMICs(a fyne.App) []string {
	return a.Preferences().StringList(savedNUMICsKey)
}

func rememberNUMIC(a fyne.App, numic string) {
	list := savedNUMICs(a)
	if !slices.Contains(list, numic) {
		a.Preferences().SetStringList(savedNUMICsKey, append(list, numic))
	}
}
