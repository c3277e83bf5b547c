package office

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// monitorScreen watches the outbox: counts, failures, retry.
type monitorScreen struct {
	u       *UI
	counts  *widget.Label
	chart   *fyne.Container // refusals by domain
	failed  *fyne.Container
	retries []*ui.Button // one per failed message
	reason  *ui.Field
	refresh *ui.Button
	msg     *ui.Message
}

func newMonitor(u *UI) *monitorScreen {
	s := &monitorScreen{u: u, counts: ui.Wrapped(""), chart: list(), failed: list(), msg: ui.NewMessage(),
		reason: u.NewField("field.reason", "field.reason.help", false)}
	s.refresh = u.Button(lang.L("monitor.refresh"), nil, s.load)
	s.load()
	return s
}

func (s *monitorScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("monitor.page")), s.counts, s.chart, container.NewHBox(s.refresh), s.reason.Object(), s.msg.Label, s.failed)
	return &ui.Page{Title: lang.L("monitor.page"), Content: c, Focus: s.refresh, Screen: s}
}

func (s *monitorScreen) load() {
	officeCall(s.u, func(ctx context.Context, token string) (portal.OutboxStatus, error) {
		return s.u.opt.Office.OutboxStatus(ctx, token)
	}, func(st portal.OutboxStatus, err error) {
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		s.counts.SetText(stagesText(st))
		s.chart.RemoveAll()
		s.chart.Add(refusalChart(st.Domains))
		s.failed.RemoveAll()
		s.retries = nil
		for _, m := range st.Failed {
			b := s.u.Button(lang.L("monitor.retry"), nil, func() { s.retry(m.ID) })
			s.retries = append(s.retries, b)
			s.failed.Add(container.NewBorder(nil, nil, nil, b, ui.Wrapped(lang.X("monitor.failed", "", map[string]any{
				"Channel": codeLabel("channel.", m.Channel), "To": m.Recipient, "Kind": codeLabel("kind.", m.Kind),
				"Attempts": m.Attempts, "Error": m.LastError}))))
		}
	})
}

func (s *monitorScreen) retry(id int64) {
	why := s.reason.Entry.Text
	officeCall(s.u, func(ctx context.Context, token string) (struct{}, error) {
		return struct{}{}, s.u.opt.Office.RetryMessage(ctx, token, id, why)
	}, func(_ struct{}, err error) {
		if err != nil {
			if !s.u.showFieldErrors(err, map[portal.Field]*ui.Field{portal.FieldReason: s.reason}) {
				s.u.officeFailed(err, s.msg)
			}
			return
		}
		s.reason.SetError("")
		s.msg.Set(lang.L("monitor.retried"), widget.SuccessImportance)
		s.load()
	})
}
