package screens

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/screens/ui"
)

// codeForm is a voter's request sent with a security code: its fields,
// the code, a message and the submit button. The identifier request (E2)
// and the password request are each one, with their own fields and call.
type codeForm struct {
	u      *UI
	order  []*ui.Field // the fields above the code, in reading order
	code   *codeField
	send   *ui.Submit
	msg    *ui.Message
	fields map[portal.Field]*ui.Field
	// prepare reads the form into its request, checks what can be
	// checked here (the portal checks it all again) and returns the call
	// that sends it.
	prepare func() (func(context.Context) error, error)
	// failText words an error shown in msg; sent is the page shown once
	// the request is sent.
	failText func(error) string
	sent     func() *ui.Page
}

// newCodeForm is the form of fields (by the portal's name for them, shown
// in order) and a security code, sent by the button labelled submitKey
// or Enter in any of them.
func newCodeForm(u *UI, submitKey string, fields map[portal.Field]*ui.Field, order ...*ui.Field) *codeForm {
	f := &codeForm{u: u, order: order, code: newCodeField(u), msg: ui.NewMessage(), fields: fields}
	fields[portal.FieldCode] = f.code.Field
	f.send = u.NewSubmit(submitKey, f.submit)
	var entries []*ui.Entry
	for _, o := range order {
		entries = append(entries, o.Entry)
	}
	f.send.SubmitOn(append(entries, f.code.Entry)...)
	return f
}

// page is the form's page for screen s: its heading, the texts above the
// form, then the form.
func (f *codeForm) page(s any, pageKey, titleKey string, texts ...fyne.CanvasObject) *ui.Page {
	objs := append([]fyne.CanvasObject{ui.Heading(lang.L(titleKey))}, texts...)
	objs = append(objs, widget.NewSeparator())
	for _, o := range f.order {
		objs = append(objs, o.Object())
	}
	objs = append(objs, f.code.Object(), f.msg.Label, f.send.Object())
	return &ui.Page{Title: lang.L(pageKey), Content: container.NewVBox(objs...), Focus: f.order[0].Entry, Screen: s}
}

func (f *codeForm) submit() {
	f.msg.Set("", widget.MediumImportance)
	send, err := f.prepare()
	if err != nil {
		f.u.showFieldErrors(err, f.fields)
		return
	}
	f.u.showFieldErrors(nil, f.fields)
	f.send.Busy(true)
	ui.Call(f.u.calls, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, send(ctx)
	}, func(_ struct{}, err error) {
		f.send.Busy(false)
		if err != nil {
			f.failed(err)
			return
		}
		f.u.Replace(f.sent())
	})
}

// failed shows why the request failed: under the code when the code was
// wrong or expired, under the fields the error names, else in msg, worded
// by failText. Every attempt spends its code, so a new one is drawn.
func (f *codeForm) failed(err error) {
	switch {
	case errors.Is(err, portal.ErrSecurityCodeWrong), errors.Is(err, portal.ErrSecurityCodeExpired):
		f.code.SetError(f.u.errorText(err))
		f.code.load()
		f.u.Summarize([]*ui.Field{f.code.Field})
	case f.u.showFieldErrors(err, f.fields):
	default:
		f.msg.Set(f.failText(err), widget.DangerImportance)
		f.code.load()
		f.u.Failed(f.code.Field, f.msg.Label, f.msg.Label)
	}
}
