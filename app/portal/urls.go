package portal

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// IsLoopback reports whether host names this machine: "localhost", or an
// address of 127.0.0.0/8 or ::1 (with or without brackets, or mapped in
// IPv6). The host is parsed as an IP address, so a name that merely
// begins with "127." (127.0.0.1.nip.io) is not loopback. This is the one
// loopback test of the program: plain HTTP is allowed on loopback only.
func IsLoopback(host string) bool {
	if h, ok := strings.CutPrefix(host, "["); ok {
		if host, ok = strings.CutSuffix(h, "]"); !ok {
			return false
		}
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// ErrServiceURL is wrapped by every refusal of CheckServiceURL.
var ErrServiceURL = errors.New("not a service URL")

// CheckServiceURL checks the base URL of a service the program talks to
// (the backend, an SMS gateway): absolute, naming a host, https — or http
// on a loopback address, for tests and a server on the same machine —,
// with no user, query or fragment (secrets travel in headers, not URLs).
func CheckServiceURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return &ServiceURLError{URLNotAbsolute, fmt.Sprintf("%q is not an absolute URL naming a host", raw)}
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return &ServiceURLError{URLPlainHTTP, fmt.Sprintf("%q: https is required (http only on a loopback address)", raw)}
	case u.Scheme != "https" && u.Scheme != "http":
		return &ServiceURLError{URLScheme, fmt.Sprintf("%q: https is required", raw)}
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return &ServiceURLError{URLExtra, fmt.Sprintf("%q: no user, query or fragment", raw)}
	}
	return nil
}

// URLProblem says what is wrong with a service URL, for a message in the
// user's language.
type URLProblem string

// The problems CheckServiceURL finds.
const (
	URLNotAbsolute URLProblem = "not_absolute" // not an address naming a server
	URLPlainHTTP   URLProblem = "plain_http"   // http to another machine
	URLScheme      URLProblem = "scheme"       // neither https nor http
	URLExtra       URLProblem = "extra"        // a user, a query or a fragment
)

// ServiceURLError is a refusal of CheckServiceURL; it matches
// ErrServiceURL.
type ServiceURLError struct {
	Problem URLProblem
	text    string
}

func (e *ServiceURLError) Error() string { return ErrServiceURL.Error() + ": " + e.text }

// Is makes errors.Is(err, ErrServiceURL) hold.
func (e *ServiceURLError) Is(target error) bool { return target == ErrServiceURL }
