package office

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// campaignScreen sends first credentials.
type campaignScreen struct {
	u        *UI
	name     *ui.Field
	start    *ui.Button
	cancelB  *ui.Button
	progress *widget.Label
	msg      *ui.Message
	cancel   context.CancelFunc
}

func newCampaign(u *UI) *campaignScreen {
	s := &campaignScreen{u: u, name: u.NewField("field.campaign", "", false), progress: widget.NewLabel(""), msg: ui.NewMessage()}
	s.start = u.Button(lang.L("campaign.start"), nil, s.run)
	s.start.Importance = widget.HighImportance
	s.cancelB = u.Button(lang.L("import.cancel"), nil, func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.cancelB.Disable()
	return s
}

func (s *campaignScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("campaign.page")), ui.Wrapped(lang.L("campaign.text")), s.name.Object(),
		container.NewHBox(s.start, s.cancelB), s.progress, s.msg.Label)
	return &ui.Page{Title: lang.L("campaign.page"), Content: c, Focus: s.name.Entry, Screen: s}
}

func (s *campaignScreen) run() {
	name := strings.TrimSpace(s.name.Entry.Text)
	if name == "" {
		s.name.SetError(lang.L("err.campaign.required"))
		return
	}
	s.name.SetError("")
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.start.Disable()
	s.cancelB.Enable()
	show := func(r portal.CampaignReport) {
		s.progress.SetText(lang.X("campaign.progress", "", map[string]any{"Sent": r.Sent, "Skipped": r.Skipped}))
	}
	officeCallCtx(s.u, ctx, func(ctx context.Context, token string) (portal.CampaignReport, error) {
		return s.u.opt.RollAdmin.SendFirstCredentialsAs(ctx, token, name, func(r portal.CampaignReport) {
			s.u.calls.Progress(func() { show(r) })
		})
	}, func(r portal.CampaignReport, err error) {
		cancel()
		s.cancel = nil
		s.start.Enable()
		s.cancelB.Disable()
		if errors.Is(err, context.Canceled) {
			err, r.Cancelled = nil, true
		}
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		show(r)
		if r.Cancelled {
			s.msg.Set(lang.L("import.cancelled"), widget.WarningImportance)
		} else {
			s.msg.Set(lang.X("campaign.progress", "", map[string]any{"Sent": r.Sent, "Skipped": r.Skipped}), widget.SuccessImportance)
		}
	})
}

// problemLine says a refused roll line in the UI's language.
