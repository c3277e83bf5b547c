// Package api is the JSON wire format of /api/v1: the routes, the bodies
// and the errors that `consulvoted serve` answers and the app's remote
// client sends. It mirrors the portal contract one to one.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"consulvote/app/portal"
)

// The routes, all POST but Logout (DELETE), SecurityCodeAudio and Health
// (GET).
const (
	SecurityCodes = "/api/v1/security-codes"
	// SecurityCodeAudio is GET SecurityCodes/{id}/audio?lang=fr|en: the
	// code spoken, audio/wav.
	SecurityCodeAudio  = SecurityCodes + "/{id}/audio"
	IdentifierRenewals = "/api/v1/identifier-renewals"
	IdentifierConfirm  = "/api/v1/identifier-renewals/confirm"
	PasswordRenewals   = "/api/v1/password-renewals"
	LinkInspect        = "/api/v1/links/inspect"
	Sessions           = "/api/v1/sessions"
	Health             = "/healthz"
)

// MaxBody is the largest request body accepted: the largest form is well
// under a kilobyte.
const MaxBody = 8 << 10

// ContentType is the only content type requests may have.
const ContentType = "application/json"

// SecurityCode answers SecurityCodes.
type SecurityCode struct {
	ID        string    `json:"id"`
	PNG       []byte    `json:"png"` // base64 in JSON
	ExpiresAt time.Time `json:"expires_at"`
}

// IdentifierRenewalRequest is the body of IdentifierRenewals.
type IdentifierRenewalRequest struct {
	NUMIC  string `json:"numic"`
	Email  string `json:"email"`
	CodeID string `json:"code_id"`
	Code   string `json:"code"`
}

// PasswordRenewalRequest is the body of PasswordRenewals.
type PasswordRenewalRequest struct {
	Identifier string `json:"identifier"`
	NUMIC      string `json:"numic"`
	CodeID     string `json:"code_id"`
	Code       string `json:"code"`
}

// LinkRequest is the body of LinkInspect. The link travels in the body,
// never in a URL, so that no access log keeps it.
type LinkRequest struct {
	Link string `json:"link"`
}

// LinkStatus answers LinkInspect.
type LinkStatus struct {
	State     portal.LinkState `json:"state"`
	ExpiresAt *time.Time       `json:"expires_at,omitempty"`
}

// ConfirmRequest is the body of IdentifierConfirm.
type ConfirmRequest struct {
	Link     string `json:"link"`
	Password string `json:"password"`
	CodeID   string `json:"code_id"`
	Code     string `json:"code"`
}

// Renewal answers IdentifierConfirm.
type Renewal struct {
	Identifier string `json:"identifier"`
	NUMIC      string `json:"numic"`
}

// LoginRequest is the body of Sessions (POST).
type LoginRequest struct {
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
}

// Session answers Sessions (POST).
type Session struct {
	Token       string     `json:"token"`
	NUMICMasked string     `json:"numic_masked"`
	FirstNames  string     `json:"first_names"`
	LastName    string     `json:"last_name"`
	LastLogin   *time.Time `json:"last_login,omitempty"`
	ExpiresAt   time.Time  `json:"expires_at"`
}

// Error is the body of every error answer.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody carries a portal error: its stable code, when it ends, and
// the invalid fields.
type ErrorBody struct {
	Code   portal.Code         `json:"code"`
	Until  *time.Time          `json:"until,omitempty"`
	Fields []portal.FieldError `json:"fields,omitempty"`
	// Remaining: tries left before the lock, after a wrong password.
	Remaining int `json:"remaining,omitempty"`
}

// ErrorFor returns the wire form of err and its HTTP status. An error that
// is not a portal error is internal, and its text is not sent.
func ErrorFor(err error) (Error, int) {
	var pe *portal.Error
	if !errors.As(err, &pe) {
		return Error{ErrorBody{Code: portal.CodeInternal}}, http.StatusInternalServerError
	}
	body := ErrorBody{Code: pe.Code, Fields: pe.Fields, Remaining: pe.Remaining}
	if !pe.Until.IsZero() {
		u := pe.Until.UTC()
		body.Until = &u
	}
	return Error{body}, Status(pe.Code)
}

// PortalError turns a wire error back into the portal error it carries.
func (e ErrorBody) PortalError() *portal.Error {
	pe := &portal.Error{Code: e.Code, Fields: e.Fields, Remaining: e.Remaining}
	if e.Until != nil {
		pe.Until = *e.Until
	}
	if pe.Code == "" {
		pe.Code = portal.CodeInternal
	}
	return pe
}

// Status is the HTTP status of an error code.
func Status(c portal.Code) int {
	switch c {
	case portal.CodeInvalidInput, portal.CodeLinkInvalid:
		return http.StatusBadRequest
	case portal.CodeSecurityCodeWrong, portal.CodeSecurityCodeExpired:
		return http.StatusUnprocessableEntity
	case portal.CodeWrongPasswordOrCode, portal.CodeBadLogin:
		return http.StatusUnauthorized
	case portal.CodeLinkUnknown:
		return http.StatusNotFound
	case portal.CodeLinkExpired, portal.CodeLinkUsed, portal.CodeLinkReplaced, portal.CodeLinkRevoked:
		return http.StatusGone
	case portal.CodeRenewalConflict, portal.CodeChangePending, portal.CodeChangeDecided, portal.CodeContactStale:
		return http.StatusConflict
	case portal.CodeChangeExpired:
		return http.StatusGone
	case portal.CodeSelfApproval:
		return http.StatusForbidden
	case portal.CodeNoMobile:
		return http.StatusUnprocessableEntity
	case portal.CodeLocked:
		return http.StatusLocked
	case portal.CodeRateLimited:
		return http.StatusTooManyRequests
	case portal.CodeUnavailable:
		return http.StatusServiceUnavailable
	case portal.CodeUnauthorized:
		return http.StatusUnauthorized
	case portal.CodeForbidden:
		return http.StatusForbidden
	case portal.CodeNotFound:
		return http.StatusNotFound
	case portal.CodeRollHeader:
		return http.StatusUnprocessableEntity
	case portal.CodeRollUnreadable:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// ErrBadBody is returned by Decode for a body that is not exactly one JSON
// object of the expected shape.
var ErrBadBody = errors.New("api: malformed request body")

// Decode reads one JSON value of v's type from r, strictly: valid UTF-8,
// no unknown field, nothing after the value.
func Decode(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: not UTF-8", ErrBadBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the object", ErrBadBody)
	}
	return nil
}
