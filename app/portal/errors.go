package portal

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code is a stable error code: the screens map it to a translated sentence
// and the JSON API sends it as is.
type Code string

// The error codes of the portal.
const (
	CodeInvalidInput        Code = "invalid_input"
	CodeSecurityCodeWrong   Code = "security_code_wrong"
	CodeSecurityCodeExpired Code = "security_code_expired"
	CodeRateLimited         Code = "rate_limited"
	CodeRenewalConflict     Code = "renewal_conflict"
	CodeLinkInvalid         Code = "link_invalid"
	CodeLinkUnknown         Code = "link_unknown"
	CodeLinkExpired         Code = "link_expired"
	CodeLinkUsed            Code = "link_used"
	CodeLinkReplaced        Code = "link_replaced"
	CodeLinkRevoked         Code = "link_revoked"
	CodeWrongPasswordOrCode Code = "wrong_password_or_code"
	CodeLocked              Code = "locked"
	CodeBadLogin            Code = "bad_login"
	CodeUnavailable         Code = "unavailable"
	CodeUnauthorized        Code = "unauthorized"
	CodeForbidden           Code = "forbidden"
	CodeNotFound            Code = "not_found"
	CodeRollHeader          Code = "roll_header"     // the roll's first line is not the expected header
	CodeRollUnreadable      Code = "roll_unreadable" // the roll file could not be read to its end
	CodeSelfApproval        Code = "self_approval"
	CodeChangePending       Code = "change_pending"
	CodeChangeDecided       Code = "change_decided"
	CodeChangeExpired       Code = "change_expired"
	CodeContactStale        Code = "contact_stale"
	CodeNoMobile            Code = "no_mobile"
	CodeInternal            Code = "internal"
)

// String returns the code itself.
func (c Code) String() string { return string(c) }

// Error is the portal's error type. Compare with errors.Is against the
// sentinels below: an Error matches the sentinel of its Code whatever its
// other fields hold.
type Error struct {
	Code   Code
	Until  time.Time    // when a lock, rate limit or cool-down ends
	Fields []FieldError // for CodeInvalidInput
	// Remaining is the tries left before the lock, after a wrong password
	// on a login (CodeBadLogin) or a renewal link (CodeWrongPasswordOrCode);
	// 0: not told. A login with an identifier that names no voter gets the
	// figure a known one would: it tells nothing of who exists.
	Remaining int
}

// Sentinel errors, one per code.
var (
	ErrInvalidInput        = &Error{Code: CodeInvalidInput}
	ErrSecurityCodeWrong   = &Error{Code: CodeSecurityCodeWrong}
	ErrSecurityCodeExpired = &Error{Code: CodeSecurityCodeExpired}
	ErrRateLimited         = &Error{Code: CodeRateLimited}
	ErrRenewalConflict     = &Error{Code: CodeRenewalConflict}
	ErrLinkInvalid         = &Error{Code: CodeLinkInvalid}
	ErrLinkUnknown         = &Error{Code: CodeLinkUnknown}
	ErrLinkExpired         = &Error{Code: CodeLinkExpired}
	ErrLinkUsed            = &Error{Code: CodeLinkUsed}
	ErrLinkReplaced        = &Error{Code: CodeLinkReplaced}
	ErrLinkRevoked         = &Error{Code: CodeLinkRevoked}
	ErrWrongPasswordOrCode = &Error{Code: CodeWrongPasswordOrCode}
	ErrLocked              = &Error{Code: CodeLocked}
	ErrBadLogin            = &Error{Code: CodeBadLogin}
	ErrUnavailable         = &Error{Code: CodeUnavailable}
	ErrRollHeader          = &Error{Code: CodeRollHeader}
	ErrRollUnreadable      = &Error{Code: CodeRollUnreadable}
)

// Error returns a short English description for logs; it never holds what
// the user typed.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("portal: ")
	b.WriteString(string(e.Code))
	if !e.Until.IsZero() {
		fmt.Fprintf(&b, " until %s", e.Until.UTC().Format(time.RFC3339))
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", f.Field, f.Reason)
	}
	return b.String()
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCode returns the code of err, CodeInternal for an error that is not
// a portal error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Field names a form field.
type Field string

// The form fields that can be invalid.
const (
	FieldNUMIC      Field = "numic"
	FieldEmail      Field = "email"
	FieldCode       Field = "code"
	FieldPassword   Field = "password"
	FieldLink       Field = "link"
	FieldIdentifier Field = "identifier"
	FieldReason     Field = "reason"
	FieldName       Field = "name"
	FieldQuery      Field = "query"
	FieldLanguage   Field = "language"
	FieldMobile     Field = "mobile"
	FieldDocument   Field = "document"
	FieldKind       Field = "kind"
)

// Reason says what is wrong with a field.
type Reason string

// The reasons a field can be invalid.
const (
	ReasonRequired Reason = "required"
	ReasonFormat   Reason = "format"
	ReasonTooLong  Reason = "too_long"
	// ReasonTaken: the e-mail address is another voter's.
	ReasonTaken Reason = "taken"
	// ReasonUnchanged: the value is the one already on file.
	ReasonUnchanged Reason = "unchanged"
)

// FieldError is one invalid field.
type FieldError struct {
	Field  Field  `json:"field"`
	Reason Reason `json:"reason"`
}

// InvalidInput returns an ErrInvalidInput error for fields, or nil when
// fields is empty.
func InvalidInput(fields ...FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalidInput, Fields: fields}
}

// FieldErrors returns the invalid fields carried by err, if any.
func FieldErrors(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
