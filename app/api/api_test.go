package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"consulvote/app/portal"
)

func codeOf(s string) portal.Code { return portal.Code(s) }

// FuzzDecode feeds arbitrary bodies to the strict decoder of every request
// type: it must never panic, and whatever it accepts must survive a round
// trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"numic":"00012345","email":"a@example.org","code_id":"ab","code":"7777"}`,
		`{"identifier":"hq67savGuH9Z","numic":"00012345","code_id":"ab","code":"7777"}`,
		`{"link":"https://vote.example/renouvellement?jeton=AAAA"}`,
		`{"link":"x","password":"p","code_id":"c","code":"1234"}`,
		`{"identifier":"a","password":"b"}`,
		`{}`, `null`, `[]`, `{"a":1}`, "{\"numic\":\"\xff\"}", `{"numic":"1"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []any{&IdentifierRenewalRequest{}, &PasswordRenewalRequest{}, &LinkRequest{}, &ConfirmRequest{}, &LoginRequest{}} {
			if err := Decode(bytes.NewReader(b), v); err != nil {
				if !errors.Is(err, ErrBadBody) {
					t.Fatalf("error %v is not ErrBadBody", err)
				}
				continue
			}
			again := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			out, _ := json.Marshal(v)
			if err := Decode(bytes.NewReader(out), again); err != nil || !reflect.DeepEqual(v, again) {
				t.Fatalf("round trip of %T %q: %v", v, out, err)
			}
		}
	})
}

func TestStatusOfEveryCode(t *testing.T) {
	for code, want := range map[string]int{"invalid_input": 400, "security_code_wrong": 422, "wrong_password_or_code": 401,
		"link_unknown": 404, "link_used": 410, "renewal_conflict": 409, "locked": 423, "rate_limited": 429, "internal": 500} {
		if got := Status(codeOf(code)); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}

// TestErrorRoundTrip: what the service tells, the tries left included,
// reaches the remote client unchanged.
func TestErrorRoundTrip(t *testing.T) {
	for _, in := range []*portal.Error{
		{Code: portal.CodeBadLogin, Remaining: 3},
		{Code: portal.CodeWrongPasswordOrCode, Remaining: 1},
		{Code: portal.CodeLocked, Until: time.Date(2026, 5, 6, 18, 25, 0, 0, time.UTC)},
		{Code: portal.CodeInvalidInput, Fields: []portal.FieldError{{Field: portal.FieldNUMIC, Reason: portal.ReasonFormat}}},
	} {
		wire, _ := ErrorFor(in)
		b, err := json.Marshal(wire)
		if err != nil {
			t.Fatal(err)
		}
		var back Error
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if got := back.Error.PortalError(); !reflect.DeepEqual(got, in) {
			t.Errorf("%s: %+v came back as %+v", b, in, got)
		}
	}
}
