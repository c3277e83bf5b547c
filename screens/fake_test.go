package screens

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
	"time"

	"consulvote/app/portal"
)

// fakePortal is a portal.Portal of function fields, for the tests of
// layout, translation, keyboard and accessibility: they build pages and
// type in them without a store or a password hash. A call whose field is
// nil fails the test, but for NewSecurityCode, which every form makes: it
// draws a blank code. The flows run on the real service (newHarness).
type fakePortal struct {
	t                        testing.TB
	newSecurityCode          func(ctx context.Context) (portal.SecurityCode, error)
	securityCodeAudio        func(ctx context.Context, id, language string) ([]byte, error)
	requestIdentifierRenewal func(ctx context.Context, req portal.IdentifierRenewalRequest) error
	inspectLink              func(ctx context.Context, link string) (portal.LinkStatus, error)
	confirmIdentifierRenewal func(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error)
	requestPasswordRenewal   func(ctx context.Context, req portal.PasswordRenewalRequest) error
	login                    func(ctx context.Context, identifier, password string) (portal.Session, error)
	logout                   func(ctx context.Context, token string) error
}

var _ portal.Portal = (*fakePortal)(nil)

// newFakeHarness is the UI on a fakePortal.
func newFakeHarness(t testing.TB, opts ...func(*Options)) (*harness, *fakePortal) {
	t.Helper()
	f := &fakePortal{t: t}
	return newHarnessOn(t, f, nil, nil, opts...), f
}

// unset fails the test on a call it did not expect.
func (f *fakePortal) unset(method string) error {
	f.t.Errorf("unexpected portal call %s", method)
	return portal.ErrUnavailable
}

// blankCode is a security code's picture: white, of the real one's size.
var blankCode = func() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 200, 70))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

func (f *fakePortal) NewSecurityCode(ctx context.Context) (portal.SecurityCode, error) {
	if f.newSecurityCode == nil {
		return portal.SecurityCode{ID: "fake", PNG: blankCode, ExpiresAt: time.Now().Add(time.Hour)}, nil
	}
	return f.newSecurityCode(ctx)
}

func (f *fakePortal) SecurityCodeAudio(ctx context.Context, id, language string) ([]byte, error) {
	if f.securityCodeAudio == nil {
		return nil, f.unset("SecurityCodeAudio")
	}
	return f.securityCodeAudio(ctx, id, language)
}

func (f *fakePortal) RequestIdentifierRenewal(ctx context.Context, req portal.IdentifierRenewalRequest) error {
	if f.requestIdentifierRenewal == nil {
		return f.unset("RequestIdentifierRenewal")
	}
	return f.requestIdentifierRenewal(ctx, req)
}

func (f *fakePortal) InspectLink(ctx context.Context, link string) (portal.LinkStatus, error) {
	if f.inspectLink == nil {
		return portal.LinkStatus{}, f.unset("InspectLink")
	}
	return f.inspectLink(ctx, link)
}

func (f *fakePortal) ConfirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	if f.confirmIdentifierRenewal == nil {
		return portal.Renewal{}, f.unset("ConfirmIdentifierRenewal")
	}
	return f.confirmIdentifierRenewal(ctx, req)
}

func (f *fakePortal) RequestPasswordRenewal(ctx context.Context, req portal.PasswordRenewalRequest) error {
	if f.requestPasswordRenewal == nil {
		return f.unset("RequestPasswordRenewal")
	}
	return f.requestPasswordRenewal(ctx, req)
}

func (f *fakePortal) Login(ctx context.Context, identifier, password string) (portal.Session, error) {
	if f.login == nil {
		return portal.Session{}, f.unset("Login")
	}
	return f.login(ctx, identifier, password)
}

func (f *fakePortal) Logout(ctx context.Context, token string) error {
	if f.logout == nil {
		return f.unset("Logout")
	}
	return f.logout(ctx, token)
}
