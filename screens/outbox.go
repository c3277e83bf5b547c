package screens

import (
	"context"
	"regexp"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// outboxScreen is the demo's "Messages envoyés": what would have been
// sent, with the links ready to open.
type outboxScreen struct {
	u       *UI
	list    *fyne.Container
	refresh *ui.Button
	msg     *ui.Message
	links   []*ui.Button // one per link found, for tests
	bodies  []*ui.ReadOnlyText
}

// linkInText finds renewal links in a message's text.
var linkInText = regexp.MustCompile(`https?://[^\s<>"]+` + regexp.QuoteMeta(portal.LinkPath) + `\?` + portal.LinkTokenParam + `=[A-Za-z0-9_-]+`)

func newOutbox(u *UI) *outboxScreen {
	s := &outboxScreen{u: u, list: container.NewVBox(), msg: ui.NewMessage()}
	s.refresh = u.Button(lang.L("outbox.refresh"), theme.ViewRefreshIcon(), s.load)
	s.load()
	return s
}

func (s *outboxScreen) page() *ui.Page {
	c := container.NewVBox(
		ui.Heading(lang.L("outbox.page")),
		ui.Wrapped(lang.L("outbox.intro")),
		container.NewHBox(s.refresh),
		s.msg.Label,
		s.list,
	)
	return &ui.Page{Title: lang.L("outbox.page"), Content: c, Screen: s} // focus: Retour (Actualiser is off while loading)
}

func (s *outboxScreen) load() {
	s.refresh.Disable()
	ui.Call(s.u.calls, func(ctx context.Context) ([]portal.Message, error) {
		return s.u.opt.Outbox.Messages(ctx, 50)
	}, func(ms []portal.Message, err error) {
		s.refresh.Enable()
		if err != nil {
			s.msg.Set(s.u.errorText(err), widget.DangerImportance)
			return
		}
		s.show(ms)
	})
}

func (s *outboxScreen) show(ms []portal.Message) {
	s.list.RemoveAll()
	s.links, s.bodies = nil, nil
	if len(ms) == 0 {
		s.list.Add(widget.NewLabel(lang.L("outbox.empty")))
	}
	for _, m := range ms {
		subject := m.Subject
		if m.Channel == "sms" {
			subject = lang.L("outbox.sms")
		}
		to := widget.NewLabel(lang.X("outbox.to", "", map[string]any{"To": m.To, "Time": words.Time(m.CreatedAt)}))
		to.Importance = widget.LowImportance
		body := s.u.ReadOnlyText(m.Text)
		s.bodies = append(s.bodies, body)
		card := container.NewVBox(widget.NewLabelWithStyle(subject, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), to, body)
		for _, link := range linkInText.FindAllString(m.Text, -1) {
			b := s.u.Button(lang.L("outbox.open_link"), theme.MailForwardIcon(), func() { s.u.OpenLink(link) })
			s.links = append(s.links, b)
			card.Add(container.NewHBox(b))
		}
		s.list.Add(widget.NewCard("", "", card))
	}
	s.list.Refresh()
}
