package office

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// messageLines is a message of the voter's file: when, how, what, to
// whom and where it stands in words; the remote server's answer when it
// was refused, delayed or expired; and, when it refused the address
// itself, the contact change as the remedy.
func messageLines(m portal.MessageState) []fyne.CanvasObject {
	lines := []fyne.CanvasObject{ui.Wrapped(lang.X("file.message", "", map[string]any{
		"Time": words.Time(m.CreatedAt), "Channel": codeLabel("channel.", m.Channel), "Kind": codeLabel("kind.", m.Kind),
		"To": m.Recipient, "State": codeLabel("stage.", m.Stage()), "Attempts": m.Attempts}))}
	if m.DeliveryStatus != "" {
		lines = append(lines, ui.Wrapped(lang.X("file.message.answer", "", map[string]any{
			"Time": words.Time(m.DeliveryAt), "Status": m.DeliveryStatus})))
	}
	if m.UserUnknown() {
		l := ui.Wrapped(lang.L("file.message.unknown"))
		l.Importance = widget.WarningImportance
		lines = append(lines, l)
	}
	return lines
}

// stagesText says how many messages are at each stage.
func stagesText(st portal.OutboxStatus) string {
	return lang.X("monitor.stages", "", map[string]any{"Queued": st.Stages["queued"], "Relayed": st.Stages["relayed"],
		"Delivered": st.Stages["delivered"], "Delayed": st.Stages["delayed"], "Refused": st.Stages["refused"],
		"Expired": st.Stages["expired"], "Failed": st.Stages["failed"]})
}

// refusalChart draws the refusal rate of each recipients' domain as a
// bar on a track of full width, drawn with Fyne's canvas; each bar's
// label says the same in words, for a screen reader and for whoever does
// not read colours.
func refusalChart(domains []portal.DomainDelivery) fyne.CanvasObject {
	rows := container.NewVBox(ui.Heading(lang.L("monitor.domains")))
	if len(domains) == 0 {
		rows.Add(ui.Wrapped(lang.L("monitor.domains.none")))
		return rows
	}
	for _, d := range domains {
		rate := 0.0
		if d.Relayed > 0 {
			rate = float64(d.Refused) / float64(d.Relayed)
		}
		label := ui.Wrapped(lang.X("monitor.domain", "", map[string]any{"Domain": d.Domain,
			"Percent": int(rate*100 + 0.5), "Refused": d.Refused, "Relayed": d.Relayed}))
		rows.Add(label)
		rows.Add(newBar(rate))
	}
	return rows
}

// bar is a horizontal bar of rate (0 to 1) of its width over a track
// outlined in the fields' border colour (3:1 on the background, both
// variants): the full width, a 0 % domain's too, is seen.
type bar struct {
	widget.BaseWidget
	rate float64
}

func newBar(rate float64) *bar {
	b := &bar{rate: min(max(rate, 0), 1)}
	b.ExtendBaseWidget(b)
	return b
}

func (b *bar) CreateRenderer() fyne.WidgetRenderer {
	r := &barRenderer{b: b, track: canvas.NewRectangle(nil), fill: canvas.NewRectangle(nil)}
	r.colour()
	return r
}

type barRenderer struct {
	b           *bar
	track, fill *canvas.Rectangle
}

func (r *barRenderer) Layout(size fyne.Size) {
	r.track.Resize(size)
	r.fill.Resize(fyne.NewSize(size.Width*float32(r.b.rate), size.Height))
}

func (r *barRenderer) MinSize() fyne.Size {
	return fyne.NewSize(theme.Padding()*20, theme.TextSize())
}

func (r *barRenderer) colour() {
	r.track.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.track.StrokeColor, r.track.StrokeWidth = theme.Color(theme.ColorNameInputBorder), theme.InputBorderSize()
	r.fill.FillColor = theme.Color(theme.ColorNameError)
}

func (r *barRenderer) Refresh() {
	r.colour()
	r.Layout(r.b.Size())
	canvas.Refresh(r.b)
}

func (r *barRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.track, r.fill} }
func (r *barRenderer) Destroy()                     {}
