package screens

import (
	"context"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// spaceScreen is the voter's space after login. Voting itself is out of
// scope.
type spaceScreen struct {
	u       *UI
	session portal.Session
	logout  *ui.Button
}

func newSpace(u *UI, sess portal.Session) *spaceScreen {
	s := &spaceScreen{u: u, session: sess}
	s.logout = u.Button(lang.L("space.logout"), nil, s.doLogout)
	return s
}

func (s *spaceScreen) page() *ui.Page {
	name := strings.TrimSpace(s.session.FirstNames + " " + s.session.LastName)
	last := lang.L("space.first_login")
	if !s.session.LastLogin.IsZero() {
		last = lang.X("space.last_login", "", map[string]any{"Time": words.Time(s.session.LastLogin)})
	}
	c := container.NewVBox(
		ui.Heading(lang.X("space.welcome", "", map[string]any{"Name": name})),
		widget.NewLabel(lang.L("home.title")),
		widget.NewLabel(electionLine(s.u.opt.Election)),
		widget.NewLabel(lang.X("space.numic", "", map[string]any{"NUMIC": s.session.NUMICMasked})),
		widget.NewLabel(last),
		ui.Wrapped(lang.L("space.vote")),
		container.NewHBox(s.logout),
	)
	return &ui.Page{Title: lang.L("space.page"), Content: c, Focus: s.logout, Screen: s, Leave: s.leave}
}

// leave ends the session whichever way the voter leaves the space.
func (s *spaceScreen) leave(proceed func()) {
	token := s.session.Token
	s.session.Token = ""
	if token != "" {
		ui.Call(s.u.calls, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, s.u.portal.Logout(ctx, token)
		}, func(struct{}, error) {})
	}
	proceed()
}

func (s *spaceScreen) doLogout() { s.u.Home() }
