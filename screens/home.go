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
	"consulvote/screens/ui"
)

// savedNUMICsKey is the preference listing the NUMICs whose identifier
// was saved in the keychain (a NUMIC is not a secret; the identifier stays
// in the keychain).
const savedNUMICsKey = "keychain.numics"

// homeScreen is E1: the election, the login form and the ways to recover.
type homeScreen struct {
	u          *UI
	identifier *ui.Field
	password   *ui.Field
	login      *ui.Submit
	msg        *ui.Message
	fill       []*ui.Button // one per identifier saved in the keychain
	lostID     *ui.Button
	lostPW     *ui.Button
	haveMail   *ui.Button
}

func newHome(u *UI) *homeScreen {
	s := &homeScreen{
		u:          u,
		identifier: u.NewField("field.identifier", "field.identifier.help", false),
		password:   u.NewField("field.password", "field.password.help", true),
		msg:        ui.NewMessage(),
	}
	s.login = u.NewSubmit("home.login", s.submit)
	s.login.SubmitOn(s.identifier.Entry, s.password.Entry)
	s.lostID = u.Button(lang.L("home.lost_identifier"), nil, func() { u.Show(newRequest(u).page()) })
	s.lostPW = u.Button(lang.L("home.lost_password"), nil, func() { u.Show(newPassword(u).page()) })
	s.haveMail = u.Button(lang.L("home.have_mail"), nil, func() { u.Show(newPaste(u).page()) })
	for _, b := range []*ui.Button{s.lostID, s.lostPW, s.haveMail} {
		b.Importance = widget.LowImportance
	}
	if u.opt.Keychain != nil {
		for _, numic := range savedNUMICs(u.app) {
			s.fill = append(s.fill, u.Button(
				lang.X("home.keychain_fill", "", map[string]any{"NUMIC": portal.MaskNUMIC(numic)}), nil,
				func() { s.fillFromKeychain(numic) }))
		}
	}
	return s
}

func (s *homeScreen) page() *ui.Page {
	title := ui.Heading(lang.L("home.title"))
	title.SizeName = theme.SizeNameHeadingText
	objs := []fyne.CanvasObject{title}
	if s.u.opt.Election != "" {
		objs = append(objs, widget.NewLabel(electionLine(s.u.opt.Election)))
	}
	objs = append(objs, ui.Wrapped(lang.L("home.welcome")), widget.NewSeparator())
	for _, b := range s.fill {
		objs = append(objs, b)
	}
	objs = append(objs,
		s.identifier.Object(), container.NewHBox(s.lostID),
		s.password.Object(), container.NewHBox(s.lostPW),
		s.msg.Label, s.login.Object(), widget.NewSeparator(), container.NewHBox(s.haveMail))
	return &ui.Page{Title: lang.L("home.page"), Content: container.NewVBox(objs...), Focus: s.identifier.Entry, Screen: s}
}

func (s *homeScreen) submit() {
	s.msg.Set("", widget.MediumImportance)
	id, pw := strings.TrimSpace(s.identifier.Entry.Text), s.password.Entry.Text
	fields := map[portal.Field]*ui.Field{portal.FieldIdentifier: s.identifier, portal.FieldPassword: s.password}
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
	s.login.Busy(true)
	ui.Call(s.u.calls, func(ctx context.Context) (portal.Session, error) {
		return s.u.portal.Login(ctx, id, pw)
	}, func(sess portal.Session, err error) {
		s.login.Busy(false)
		if err != nil {
			s.password.Entry.SetText("")
			if s.u.showFieldErrors(err, fields) {
				return
			}
			text := s.u.errorText(err)
			if errors.Is(err, portal.ErrLocked) {
				text = s.u.lockedText("err.locked_login", err)
			}
			s.msg.Set(text, widget.DangerImportance)
			s.u.Failed(s.password, s.msg.Label, s.msg.Label)
			return
		}
		s.password.Entry.SetText("")
		s.u.Show(newSpace(s.u, sess).page())
	})
}

func (s *homeScreen) fillFromKeychain(numic string) {
	ui.Call(s.u.calls, func(context.Context) (string, error) {
		return s.u.opt.Keychain.Load(numic)
	}, func(id string, err error) {
		if err != nil {
			s.msg.Set(lang.L("home.keychain_failed"), widget.DangerImportance)
			return
		}
		s.identifier.Entry.SetText(id)
		s.msg.Set(lang.L("home.keychain_filled"), widget.SuccessImportance)
		s.u.win.Canvas().Focus(s.password.Entry)
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
