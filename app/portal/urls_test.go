package portal

import (
	"errors"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost":                      true,
		"LocalHost":                      true,
		"127.0.0.1":                      true,
		"127.1.2.3":                      true,
		"::1":                            true,
		"[::1]":                          true,
		"::ffff:127.0.0.1":               true,
		"127.0.0.1.nip.io":               false, // a name, resolved anywhere
		"127.example.org":                false,
		"localhost.example.org":          false,
		"128.0.0.1":                      false,
		"0.0.0.0":                        false,
		"::":                             false,
		"10.0.0.1":                       false,
		"vote.example.org":               false,
		"":                               false,
		"[::1":                           false,
		"0:0:0:0:0:0:0:1":                true,
		"::ffff:10.0.0.1":                false,
		"127.0.0.1:8443":                 false, // a host, not host:port
		"fe80::1%lo":                     false,
		"2001:db8::1":                    false,
		"localhost\x00.evil.example.org": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCheckServiceURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://vote.example.org":            true,
		"https://vote.example.org:8443/":      true,
		"https://gw.example.org/sms/send":     true,
		"http://127.0.0.1:8443":               true,
		"http://[::1]:8443":                   true,
		"http://localhost:9000/send":          true,
		"http://vote.example.org":             false,
		"http://127.0.0.1.nip.io/send":        false,
		"http://10.0.0.1":                     false,
		"ftp://vote.example.org":              false,
		"vote.example.org":                    false,
		"https://":                            false,
		"https:///path":                       false,
		"https://user:pw@vote.example.org":    false,
		"https://vote.example.org/?token=x":   false,
		"https://vote.example.org/?":          false,
		"https://vote.example.org/#frag":      false,
		"https://vote.example.org/\x7f":       false,
		"":                                    false,
		"javascript:alert(1)":                 false,
		"https://vote.example.org:99999":      true, // the port is the dialer's problem, not a policy one
		"HTTPS://vote.example.org":            true,
		"https://vote.example.org\\@evil.org": false,
	} {
		err := CheckServiceURL(raw)
		if (err == nil) != ok {
			t.Errorf("CheckServiceURL(%q) = %v, want ok=%v", raw, err, ok)
		}
		if err != nil && !errors.Is(err, ErrServiceURL) {
			t.Errorf("CheckServiceURL(%q) = %v, not an ErrServiceURL", raw, err)
		}
	}
}

// TestServiceURLProblems: each refusal says why, for a message in the
// user's language.
func TestServiceURLProblems(t *testing.T) {
	for raw, want := range map[string]URLProblem{
		"vote.example.org":                  URLNotAbsolute,
		"https://":                          URLNotAbsolute,
		"http://vote.example.org":           URLPlainHTTP,
		"ftp://vote.example.org":            URLScheme,
		"https://user:pw@vote.example.org":  URLExtra,
		"https://vote.example.org/?token=x": URLExtra,
		"https://vote.example.org/#frag":    URLExtra,
	} {
		var e *ServiceURLError
		if err := CheckServiceURL(raw); !errors.As(err, &e) || e.Problem != want {
			t.Errorf("CheckServiceURL(%q) = %v, want the problem %q", raw, err, want)
		}
	}
}
