package portal

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestErrorIs(t *testing.T) {
	locked := &Error{Code: CodeLocked, Until: time.Unix(100, 0)}
	wrapped := fmt.Errorf("confirm: %w", locked)
	if !errors.Is(wrapped, ErrLocked) {
		t.Error("a wrapped lock with a time is not ErrLocked")
	}
	if errors.Is(wrapped, ErrLinkUsed) {
		t.Error("a lock is ErrLinkUsed")
	}
	if got := ErrorCode(wrapped); got != CodeLocked {
		t.Errorf("ErrorCode = %q", got)
	}
	if got := ErrorCode(errors.New("disk full")); got != CodeInternal {
		t.Errorf("ErrorCode(plain error) = %q", got)
	}
	if ErrorCode(nil) != "" {
		t.Error("ErrorCode(nil) is not empty")
	}
	err := InvalidInput(FieldError{FieldNUMIC, ReasonFormat}, FieldError{FieldEmail, ReasonRequired})
	if !errors.Is(err, ErrInvalidInput) || len(FieldErrors(err)) != 2 {
		t.Errorf("InvalidInput: %v", err)
	}
	if got := err.Error(); got != "portal: invalid_input: numic format, email required" {
		t.Errorf("Error() = %q", got)
	}
	if InvalidInput() != nil {
		t.Error("InvalidInput() with no field is not nil")
	}
}

func TestLinkStatusErr(t *testing.T) {
	for state, want := range map[LinkState]error{
		LinkExpired: ErrLinkExpired, LinkUsed: ErrLinkUsed, LinkReplaced: ErrLinkReplaced,
		LinkRevoked: ErrLinkRevoked, LinkUnknown: ErrLinkUnknown, "bogus": ErrLinkUnknown,
	} {
		if got := (LinkStatus{State: state}).Err(); !errors.Is(got, want) {
			t.Errorf("%s: %v, want %v", state, got, want)
		}
	}
	if (LinkStatus{State: LinkValid}).Err() != nil {
		t.Error("a valid link has an error")
	}
}

const tok = "q1w2e3r4t5y6u7i8o9p0-_ASDFGHJKLZXCVBNMqwerQ" // 43 base64url characters, canonical

func TestParseLinkToken(t *testing.T) {
	if len(tok) != 43 {
		t.Fatal("bad test token")
	}
	for _, tc := range []struct {
		in   string
		want string // "" for invalid
	}{
		{tok, tok},
		{"  " + tok + "\n", tok},
		{LinkURL("https://vote.example", tok), tok},
		{LinkURL("https://vote.example/", tok), tok},
		{LinkURL("https://vote.example/portail", tok), tok},
		{"<" + LinkURL("https://vote.example", tok) + ">", tok},
		{`"` + LinkURL("http://127.0.0.1:8443", tok) + `"`, tok},
		{"https://vote.example/renouvellement/?jeton=" + tok, tok},
		{"https://vote.example/renouvellement?lang=fr&jeton=" + tok, tok},
		{AppLinkURL(tok), tok},
		{"consulvote://renouvellement/?jeton=" + tok, tok}, // as some browsers hand it over
		{"CONSULVOTE://renouvellement?jeton=" + tok, tok},
		{"consulvote://autre?jeton=" + tok, ""},
		{"consulvote://renouvellement/autre?jeton=" + tok, ""},
		{"consulvote://vote.example/renouvellement?jeton=" + tok, ""},
		{"consulvote:renouvellement?jeton=" + tok, ""},
		{"", ""},
		{"bonjour", ""},
		{tok[:42], ""},
		{tok + "A", ""},
		{strings.Replace(tok, "q", "+", 1), ""}, // not base64url
		{strings.Replace(tok, "q", "=", 1), ""},
		{"https://vote.example/renouvellement", ""},
		{"https://vote.example/autre?jeton=" + tok, ""},
		{"https://vote.example/renouvellement?jeton=" + tok + "&jeton=" + tok, ""},
		{"https://vote.example/renouvellement?jeton=" + tok[:40], ""},
		{"https://vote.example/renouvellement?jeton=%ZZ", ""},
		{strings.Repeat("x", MaxLinkLen+1), ""},
		{"\xff\xfe" + tok, ""},
		{tok[:20] + "\n" + tok[21:], ""}, // found by the fuzzer: base64 skips newlines
		{tok[:20] + "\r" + tok[21:], ""},
	} {
		got, err := ParseLinkToken(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrLinkInvalid) {
				t.Errorf("ParseLinkToken(%q) = %q, %v; want invalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLinkToken(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseLinkToken(f *testing.F) {
	for _, s := range []string{tok, LinkURL("https://vote.example", tok), AppLinkURL(tok), "", "https://x/renouvellement?jeton=", "<>\"'", "%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		token, err := ParseLinkToken(s)
		if err != nil {
			if !errors.Is(err, ErrLinkInvalid) || token != "" {
				t.Fatalf("ParseLinkToken(%q) = %q, %v", s, token, err)
			}
			return
		}
		// Whatever was accepted is a well-formed token that round-trips.
		if len(token) != 43 {
			t.Fatalf("accepted token %q of length %d", token, len(token))
		}
		again, err := ParseLinkToken(LinkURL("https://vote.example", token))
		if err != nil || again != token {
			t.Fatalf("round trip of %q: %q, %v", token, again, err)
		}
		again, err = ParseLinkToken(AppLinkURL(token))
		if err != nil || again != token {
			t.Fatalf("round trip of %q through the app's scheme: %q, %v", token, again, err)
		}
	})
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"marie.dupont@example.org":      true,
		"a+tag@sub.example.co.uk":       true,
		"":                              false,
		"marie":                         false,
		"marie@":                        false,
		"@example.org":                  false,
		"marie@example":                 false,
		"marie@example.":                false,
		"marie dupont@example.org":      false,
		"Marie <marie@example.org>":     false,
		"a@example.org,b@example.org":   false,
		"a@example.org\r\nBcc: x@y.org": false,
	} {
		if got := ValidEmail(NormalizeEmail(s)); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidNUMIC(t *testing.T) {
	eight := regexp.MustCompile(`^[0-9]{8}$`)
	for _, tc := range []struct {
		in      string
		pattern *regexp.Regexp
		want    bool
	}{
		{"00012345", nil, true},
		{NormalizeNUMIC(" 000 123 45 "), nil, true},
		{NormalizeNUMIC("000\t12345"), nil, true},
		{"123456", nil, true},
		{"123456789012", nil, true},
		{"12345", nil, false},
		{"1234567890123", nil, false},
		{"1234567a", nil, false},
		{"-1234567", nil, false},
		{"١٢٣٤٥٦٧٨", nil, false},
		{"123456", eight, false},
		{"12345678", eight, true},
		{"abcdefgh", regexp.MustCompile(`.*`), false}, // digits only whatever the pattern
	} {
		if got := ValidNUMIC(tc.in, tc.pattern); got != tc.want {
			t.Errorf("ValidNUMIC(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMaskNUMIC(t *testing.T) {
	for in, want := range map[string]string{"00012345": "••••2345", "123456789012": "••••••••9012", "123": "•••"} {
		if got := MaskNUMIC(in); got != want {
			t.Errorf("MaskNUMIC(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessageStage(t *testing.T) {
	for _, tc := range []struct {
		m       MessageState
		stage   string
		unknown bool
	}{
		{MessageState{State: "pending"}, "queued", false},
		{MessageState{State: "failed"}, "failed", false},
		{MessageState{State: "sent"}, "relayed", false},
		{MessageState{State: "sent", Delivery: "delayed", DeliveryStatus: "450 4.2.0 busy"}, "delayed", false},
		{MessageState{State: "sent", Delivery: "refused", DeliveryStatus: "550 5.1.1 <a@example.org>: Recipient address rejected"}, "refused", true},
		{MessageState{State: "sent", Delivery: "refused", DeliveryStatus: "5.1.1"}, "refused", true},
		{MessageState{State: "sent", Delivery: "refused", DeliveryStatus: "550 5.7.1 rejected as spam"}, "refused", false},
		{MessageState{State: "sent", Delivery: "refused", DeliveryStatus: "550 Sorry, no such user here"}, "refused", true},
		{MessageState{State: "sent", Delivery: "expired", DeliveryStatus: "5.1.1"}, "expired", false},
	} {
		if got := tc.m.Stage(); got != tc.stage {
			t.Errorf("%+v: stage %q, want %q", tc.m, got, tc.stage)
		}
		if got := tc.m.UserUnknown(); got != tc.unknown {
			t.Errorf("%+v: user unknown %v", tc.m, got)
		}
	}
}
