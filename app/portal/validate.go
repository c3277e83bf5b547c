package portal

import (
	"encoding/base64"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// DefaultNUMICPattern is the shape of a NUMIC once spaces are removed.
// Leading zeros are significant, so a NUMIC stays a string.
var DefaultNUMICPattern = regexp.MustCompile(`^[0-9]{6,12}$`)

// Limits on what a form field may hold, so that no one stores or hashes a
// megabyte typed into a field.
const (
	MaxEmailLen     = 254 // RFC 5321 path limit
	MaxFieldLen     = 128 // NUMIC, code, identifier, password
	MaxLinkLen      = 2048
	SecurityCodeLen = 4
	IdentifierLen   = 12
	TokenBytes      = 32
	LinkPath        = "/renouvellement"
	LinkTokenParam  = "jeton"
	// AppScheme is the URL scheme the installed app registers (installer
	// on Windows, Info.plist on macOS, .desktop file on Linux): the
	// browser page of a link offers AppLinkURL to open it in the app.
	AppScheme        = "consulvote"
	tokenEncodedSize = 43 // base64url of TokenBytes, no padding
)

// NormalizeNUMIC removes the spaces people type inside a NUMIC.
func NormalizeNUMIC(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// NormalizeEmail trims an address and lowers its case: addresses are
// compared case-insensitively.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidNUMIC reports whether numic (already normalized) is digits only and
// matches pattern (DefaultNUMICPattern when nil).
func ValidNUMIC(numic string, pattern *regexp.Regexp) bool {
	if pattern == nil {
		pattern = DefaultNUMICPattern
	}
	for _, r := range numic {
		if r < '0' || r > '9' {
			return false
		}
	}
	return numic != "" && pattern.MatchString(numic)
}

// ValidEmail reports whether s (already normalized) is one bare address.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLen || !utf8.ValidString(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// ValidSecurityCode reports whether s looks like a security code answer.
func ValidSecurityCode(s string) bool {
	if len(s) != SecurityCodeLen {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Normalize returns the request with its fields normalized.
func (r IdentifierRenewalRequest) Normalize() IdentifierRenewalRequest {
	r.NUMIC = NormalizeNUMIC(r.NUMIC)
	r.Email = NormalizeEmail(r.Email)
	r.Code = strings.TrimSpace(r.Code)
	return r
}

// Validate checks a normalized request; pattern is the NUMIC pattern
// (DefaultNUMICPattern when nil). The error lists every invalid field.
func (r IdentifierRenewalRequest) Validate(pattern *regexp.Regexp) error {
	fs := appendNUMICErrors(nil, r.NUMIC, pattern)
	switch {
	case r.Email == "":
		fs = append(fs, FieldError{FieldEmail, ReasonRequired})
	case !ValidEmail(r.Email):
		fs = append(fs, FieldError{FieldEmail, ReasonFormat})
	}
	fs = appendCodeErrors(fs, r.CodeID, r.Code)
	return InvalidInput(fs...)
}

// Normalize returns the request with its fields normalized.
func (r PasswordRenewalRequest) Normalize() PasswordRenewalRequest {
	r.Identifier = strings.TrimSpace(r.Identifier)
	r.NUMIC = NormalizeNUMIC(r.NUMIC)
	r.Code = strings.TrimSpace(r.Code)
	return r
}

// Validate checks a normalized request; pattern is the NUMIC pattern
// (DefaultNUMICPattern when nil).
func (r PasswordRenewalRequest) Validate(pattern *regexp.Regexp) error {
	var fs []FieldError
	switch {
	case r.Identifier == "":
		fs = append(fs, FieldError{FieldIdentifier, ReasonRequired})
	case len(r.Identifier) > MaxFieldLen:
		fs = append(fs, FieldError{FieldIdentifier, ReasonTooLong})
	}
	fs = appendNUMICErrors(fs, r.NUMIC, pattern)
	fs = appendCodeErrors(fs, r.CodeID, r.Code)
	return InvalidInput(fs...)
}

// Validate checks a confirmation form. The link itself is checked by
// ParseLinkToken.
func (r ConfirmRequest) Validate() error {
	var fs []FieldError
	if _, err := ParseLinkToken(r.Link); err != nil {
		fs = append(fs, FieldError{FieldLink, ReasonFormat})
	}
	switch {
	case r.Password == "":
		fs = append(fs, FieldError{FieldPassword, ReasonRequired})
	case len(r.Password) > MaxFieldLen:
		fs = append(fs, FieldError{FieldPassword, ReasonTooLong})
	}
	fs = appendCodeErrors(fs, r.CodeID, r.Code)
	return InvalidInput(fs...)
}

func appendNUMICErrors(fs []FieldError, numic string, pattern *regexp.Regexp) []FieldError {
	switch {
	case numic == "":
		return append(fs, FieldError{FieldNUMIC, ReasonRequired})
	case len(numic) > MaxFieldLen || !ValidNUMIC(numic, pattern):
		return append(fs, FieldError{FieldNUMIC, ReasonFormat})
	}
	return fs
}

func appendCodeErrors(fs []FieldError, id, code string) []FieldError {
	switch {
	case code == "":
		return append(fs, FieldError{FieldCode, ReasonRequired})
	case !ValidSecurityCode(code) || id == "" || len(id) > MaxFieldLen:
		return append(fs, FieldError{FieldCode, ReasonFormat})
	}
	return fs
}

// ParseLinkToken extracts the token from a renewal link, or accepts a bare
// token. It allows what mail clients add around a pasted link (spaces,
// angle brackets, quotes) and nothing else; any other text is
// ErrLinkInvalid.
func ParseLinkToken(s string) (string, error) {
	if len(s) > MaxLinkLen || !utf8.ValidString(s) {
		return "", ErrLinkInvalid
	}
	s = strings.Trim(strings.TrimSpace(s), `<>"'`)
	token := s
	if strings.Contains(s, "/") || strings.Contains(s, "?") {
		u, err := url.Parse(s)
		if err != nil {
			return "", ErrLinkInvalid
		}
		ok := strings.HasSuffix(strings.TrimRight(u.Path, "/"), LinkPath)
		if u.Scheme == AppScheme { // consulvote://renouvellement?jeton=…
			ok = u.Host == LinkPath[1:] && strings.Trim(u.Path, "/") == ""
		}
		if !ok {
			return "", ErrLinkInvalid
		}
		vs := u.Query()[LinkTokenParam]
		if len(vs) != 1 {
			return "", ErrLinkInvalid
		}
		token = vs[0]
	}
	if len(token) != tokenEncodedSize {
		return "", ErrLinkInvalid
	}
	// The decoder skips \r and \n, so check the alphabet first.
	for i := 0; i < len(token); i++ {
		if c := token[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", ErrLinkInvalid
		}
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(token); err != nil {
		return "", ErrLinkInvalid
	}
	return token, nil
}

// LinkURL builds the renewal link for token under base (the public base
// URL, with or without a trailing slash).
func LinkURL(base, token string) string {
	return strings.TrimRight(base, "/") + LinkPath + "?" + LinkTokenParam + "=" + token
}

// AppLinkURL is the link for token in the app's own URL scheme,
// consulvote://renouvellement?jeton=…, which the system hands to the app.
func AppLinkURL(token string) string {
	return AppScheme + ":/" + LinkPath + "?" + LinkTokenParam + "=" + token
}

// MaskNUMIC hides all but the last four digits of a NUMIC, for screens
// that show whose account it is.
func MaskNUMIC(numic string) string {
	if len(numic) <= 4 {
		return strings.Repeat("•", len(numic))
	}
	return strings.Repeat("•", len(numic)-4) + numic[len(numic)-4:]
}
