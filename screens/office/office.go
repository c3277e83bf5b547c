// Package office draws the consular office's screens, the "Espace
// consulat": the agents' login, the desk where an agent finds a voter's
// file and helps, the contact changes to approve, the mail going out, the
// roll import, the credentials campaigns and the audit log. Package
// screens mounts it in the voter's window, whose navigator and calls it
// shares; it never imports screens. Like screens, it knows the portal
// contract (portal.Office) and nothing of how the portal is served.
package office

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// Options configure the office's screens.
type Options struct {
	// Office is the office's side of the portal.
	Office portal.Office
	// RollAdmin (local mode) adds the roll import and the credentials
	// campaigns; nil hides them.
	RollAdmin portal.RollAdmin
	// Assistance says how to reach the assistance cell.
	Assistance string
}

// UI is the office in a window whose navigator and calls it shares with
// the app that mounts it.
type UI struct {
	*ui.Nav
	win   fyne.Window
	calls *ui.Calls
	opt   Options

	// agent is the agent logged in, if any.
	agent *portal.AgentSession
}

// New returns the office drawn in w with nav, calling the portal through
// calls.
func New(w fyne.Window, nav *ui.Nav, calls *ui.Calls, opt Options) *UI {
	return &UI{Nav: nav, win: w, calls: calls, opt: opt}
}

// Open opens the "Espace consulat": its home if an agent is logged in,
// else the agents' login.
func (u *UI) Open() {
	if u.agent != nil {
		u.Show(newOfficeHome(u).page())
		return
	}
	u.Show(newOfficeLogin(u, "").page())
}

// errorText is the one sentence shown for err.
func (u *UI) errorText(err error) string { return words.Error(err, u.opt.Assistance) }

// showFieldErrors puts each field error under its field and returns
// whether there was any (words.ShowFieldErrors).
func (u *UI) showFieldErrors(err error, fields map[portal.Field]*ui.Field) bool {
	return words.ShowFieldErrors(u.Nav, err, fields)
}

// officeFailed handles an office error: an ended session sends the agent
// back to the login; anything else is shown in msg.
func (u *UI) officeFailed(err error, msg *ui.Message) {
	if errors.Is(err, portal.ErrUnauthorized) {
		u.agent = nil
		u.Replace(newOfficeLogin(u, lang.L("office.expired")).page())
		return
	}
	msg.Set(u.errorText(err), widget.DangerImportance)
}

// officeCall is ui.Call for an agent's request: it reads the session's
// token here, on the UI goroutine that owns the session, and hands it to
// work off it. Office screens call the portal through it (or
// officeCallCtx), never reading the session themselves.
func officeCall[T any](u *UI, work func(ctx context.Context, token string) (T, error), done func(T, error)) {
	token := u.token()
	ui.Call(u.calls, func(ctx context.Context) (T, error) { return work(ctx, token) }, done)
}

// officeCallCtx is officeCall under ctx, for long work the agent may
// cancel.
func officeCallCtx[T any](u *UI, ctx context.Context, work func(ctx context.Context, token string) (T, error), done func(T, error)) {
	token := u.token()
	ui.CallCtx(u.calls, ctx, func(ctx context.Context) (T, error) { return work(ctx, token) }, done)
}

// token is the agent's session token, "" when none is logged in.
func (u *UI) token() string {
	if u.agent == nil {
		return ""
	}
	return u.agent.Token
}
