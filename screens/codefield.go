package screens

import (
	"context"
	"errors"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

type codeField struct {
	*ui.Field
	u       *UI
	id      string
	image   *canvas.Image
	refresh *ui.Button
	listen  *ui.Button
	status  *widget.Label
}

func newCodeField(u *UI) *codeField {
	c := &codeField{Field: u.NewField("field.code", "field.code.help", false), u: u}
	c.image = &canvas.Image{}
	c.image.FillMode = canvas.ImageFillContain
	c.image.SetMinSize(fyne.NewSize(200, 70))
	c.refresh = u.Button(lang.L("code.new"), theme.ViewRefreshIcon(), c.load)
	c.listen = u.Button(lang.L("code.listen"), theme.VolumeUpIcon(), c.play)
	c.status = ui.Wrapped("")
	c.load()
	return c
}

func (c *codeField) Object() fyne.CanvasObject {
	return container.NewVBox(
		c.Label,
		// The picture is transparent: a white card behind it keeps the
		// digits legible on a dark theme.
		container.NewHBox(container.NewStack(canvas.NewRectangle(color.White), c.image),
			container.NewCenter(container.NewVBox(c.refresh, c.listen))),
		c.status,
		c.Entry, c.Help, c.Err,
	)
}

// load fetches a new code and clears what was typed for the old one.
func (c *codeField) load() {
	c.id = ""
	c.Entry.SetText("")
	c.refresh.Disable()
	c.status.SetText(lang.L("code.loading"))
	c.status.Show()
	ui.Call(c.u.calls, func(ctx context.Context) (portal.SecurityCode, error) {
		return c.u.portal.NewSecurityCode(ctx)
	}, func(sc portal.SecurityCode, err error) {
		c.refresh.Enable()
		if err != nil {
			c.status.SetText(lang.L("code.failed"))
			return
		}
		c.id = sc.ID
		c.image.Resource = fyne.NewStaticResource("code-"+sc.ID+".png", sc.PNG)
		c.image.Refresh()
		c.status.Hide()
	})
}

// play says the code aloud, in the UI's language.
func (c *codeField) play() {
	if c.id == "" {
		return
	}
	if c.u.opt.Player == nil {
		c.status.SetText(lang.X("code.no_audio", "", map[string]any{"Contact": c.u.opt.Assistance}))
		c.status.Show()
		return
	}
	id, language, player := c.id, c.u.opt.Language, c.u.opt.Player
	if language == "" {
		language = "fr"
	}
	c.listen.Disable()
	c.status.SetText(lang.L("code.playing"))
	c.status.Show()
	ui.Call(c.u.calls, func(ctx context.Context) (bool, error) {
		sound, err := c.u.portal.SecurityCodeAudio(ctx, id, language)
		if err != nil {
			return false, err
		}
		return true, player.Play(ctx, sound)
	}, func(fetched bool, err error) {
		c.listen.Enable()
		switch {
		case err == nil:
			c.status.Hide()
		case !fetched && errors.Is(err, portal.ErrSecurityCodeExpired):
			c.load()
			c.SetError(c.u.errorText(err))
		case !fetched:
			c.status.SetText(c.u.errorText(err))
		default: // the sound came but could not be played
			c.status.SetText(lang.X("code.no_audio", "", map[string]any{"Contact": c.u.opt.Assistance}))
		}
	})
}
