package service_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

func fe(f portal.Field, r portal.Reason) portal.FieldError {
	return portal.FieldError{Field: f, Reason: r}
}

func TestRequestBadInput(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name               string
		numic, email, code string
		want               []portal.FieldError
	}{
		{"all empty", "", "", "", []portal.FieldError{
			fe(portal.FieldNUMIC, portal.ReasonRequired), fe(portal.FieldEmail, portal.ReasonRequired),
			fe(portal.FieldCode, portal.ReasonRequired)}},
		{"letters in NUMIC", "0001234A", marie.Email, rightCode, []portal.FieldError{fe(portal.FieldNUMIC, portal.ReasonFormat)}},
		{"NUMIC too short", "12345", marie.Email, rightCode, []portal.FieldError{fe(portal.FieldNUMIC, portal.ReasonFormat)}},
		{"NUMIC too long", "1234567890123", marie.Email, rightCode, []portal.FieldError{fe(portal.FieldNUMIC, portal.ReasonFormat)}},
		{"NUMIC with Arabic digits", "١٢٣٤٥٦٧٨", marie.Email, rightCode, []portal.FieldError{fe(portal.FieldNUMIC, portal.ReasonFormat)}},
		{"SQL in NUMIC", "1' OR '1'='1", marie.Email, rightCode, []portal.FieldError{fe(portal.FieldNUMIC, portal.ReasonFormat)}},
		{"no @", marie.NUMIC, "marie.example.org", rightCode, []portal.FieldError{fe(portal.FieldEmail, portal.ReasonFormat)}},
		{"display name", marie.NUMIC, "Marie <marie@example.org>", rightCode, []portal.FieldError{fe(portal.FieldEmail, portal.ReasonFormat)}},
		{"two addresses", marie.NUMIC, "a@example.org, b@example.org", rightCode, []portal.FieldError{fe(portal.FieldEmail, portal.ReasonFormat)}},
		{"no domain dot", marie.NUMIC, "marie@localhost", rightCode, []portal.FieldError{fe(portal.FieldEmail, portal.ReasonFormat)}},
		{"huge e-mail", marie.NUMIC, strings.Repeat("a", 300) + "@example.org", rightCode, []portal.FieldError{fe(portal.FieldEmail, portal.ReasonFormat)}},
		{"code letters", marie.NUMIC, marie.Email, "77a7", []portal.FieldError{fe(portal.FieldCode, portal.ReasonFormat)}},
		{"code too long", marie.NUMIC, marie.Email, "77777", []portal.FieldError{fe(portal.FieldCode, portal.ReasonFormat)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
				NUMIC: tc.numic, Email: tc.email, CodeID: e.code(), Code: tc.code})
			if !errors.Is(err, portal.ErrInvalidInput) {
				t.Fatalf("err = %v, want invalid input", err)
			}
			if got := portal.FieldErrors(err); !slices.Equal(got, tc.want) {
				t.Errorf("fields = %v, want %v", got, tc.want)
			}
		})
	}
	if n := e.count("links", "1"); n != 0 {
		t.Errorf("%d links stored after bad input", n)
	}
	if n := e.count("rate_limits", "1"); n != 0 {
		t.Errorf("%d rate keys after bad input", n)
	}
}

func TestRequestNormalizesInput(t *testing.T) {
	e := newEnv(t)
	// Spaces inside the NUMIC, case and spaces around the e-mail.
	if err := e.request(" 000 123 45 ", "  Marie.DUPONT@Example.ORG "); err != nil {
		t.Fatal(err)
	}
	if n := e.count("links", "kind = 'identifier'"); n != 1 {
		t.Fatalf("%d links, want 1", n)
	}
	ms := e.outbox()
	if len(ms) != 1 || ms[0].To != marie.Email || ms[0].Channel != service.ChannelEmail {
		t.Fatalf("outbox = %+v", ms)
	}
}

func TestSecurityCode(t *testing.T) {
	e := newEnv(t)
	req := func(id, code string) error {
		return e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
			NUMIC: marie.NUMIC, Email: marie.Email, CodeID: id, Code: code})
	}
	c, err := e.svc.Portal.NewSecurityCode(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.PNG) < 100 || string(c.PNG[1:4]) != "PNG" {
		t.Fatalf("security code picture is not a PNG (%d bytes)", len(c.PNG))
	}
	if want := e.clock.Now().Add(5 * time.Minute); !c.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", c.ExpiresAt, want)
	}

	cases := []struct {
		name    string
		id      func() string
		code    string
		advance time.Duration
		want    error
	}{
		{"wrong digits", e.code, wrongCode, 0, portal.ErrSecurityCodeWrong},
		{"unknown id", func() string { return "0123456789abcdef" }, rightCode, 0, portal.ErrSecurityCodeExpired},
		{"at expiry", e.code, rightCode, 5 * time.Minute, portal.ErrSecurityCodeExpired},
		{"just before expiry", e.code, rightCode, 5*time.Minute - time.Nanosecond, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id()
			e.clock.Advance(tc.advance)
			if err := req(id, tc.code); !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			// Whatever the outcome, the code is spent.
			if err := req(id, rightCode); !errors.Is(err, portal.ErrSecurityCodeExpired) {
				t.Errorf("second use: %v, want expired", err)
			}
		})
	}
	// A wrong code stops before any lookup: no rate event was counted.
	if n := e.count("rate_limits", "LENGTH(times) > 0"); n != 1 {
		t.Errorf("%d rate keys counted, want 1 (the one good request's NUMIC)", n)
	}
}

// TestSecurityCodesSpent: drawing a code writes nothing; a code tried,
// right or wrong, is kept spent until it has been expired for a code's
// lifetime, then purged.
func TestSecurityCodesSpent(t *testing.T) {
	e := newEnv(t)
	for range 5 {
		e.code()
	}
	if n := e.count("spent_codes", "1"); n != 0 {
		t.Fatalf("%d codes stored by drawing", n)
	}
	if err := e.request(marie.NUMIC, marie.Email); err != nil {
		t.Fatal(err)
	}
	err := e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
		NUMIC: marie.NUMIC, Email: marie.Email, CodeID: e.code(), Code: wrongCode})
	if !errors.Is(err, portal.ErrSecurityCodeWrong) {
		t.Fatalf("wrong code: %v", err)
	}
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 2}, {e.cfg.CodeTTL, 2}, {e.cfg.CodeTTL, 0}} {
		e.clock.Advance(step.advance)
		if _, err := e.svc.Operator.PurgeRateEvents(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.count("spent_codes", "1"); n != step.want {
			t.Errorf("after %v more: %d spent codes kept, want %d", step.advance, n, step.want)
		}
	}
}

// TestSecurityCodeOnceConcurrent: 32 requests at once with one code: one
// is served, the others told the code expired, whatever their data.
func TestSecurityCodeOnceConcurrent(t *testing.T) {
	e := newEnv(t)
	id := e.code()
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Go(func() {
			errs[i] = e.svc.Portal.RequestIdentifierRenewal(e.ctx, portal.IdentifierRenewalRequest{
				NUMIC: fmt.Sprintf("%08d", 90_000_000+i), Email: "qui@example.org", CodeID: id, Code: rightCode})
		})
	}
	wg.Wait()
	served := 0
	for _, err := range errs {
		switch {
		case err == nil:
			served++
		case !errors.Is(err, portal.ErrSecurityCodeExpired):
			t.Errorf("err = %v, want nil or expired", err)
		}
	}
	if served != 1 {
		t.Errorf("%d of 32 concurrent requests with one code served, want 1", served)
	}
}

func TestNoEnumeration(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, numic, email string }{
		{"unknown NUMIC", "99999999", marie.Email},
		{"known NUMIC, other e-mail", marie.NUMIC, "someone@example.org"},
		{"e-mail of another voter", marie.NUMIC, service.DemoRoll[1].Email},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.request(tc.numic, tc.email); err != nil {
				t.Fatalf("err = %v, want the same nil as a match", err)
			}
		})
	}
	if n := e.count("links", "1"); n != 0 {
		t.Errorf("%d links for non-matching requests", n)
	}
	if n := e.count("outbox", "1"); n != 0 {
		t.Errorf("%d messages for non-matching requests", n)
	}
	if n := e.count("audit", "action = 'identifier.request.no_match'"); n != 3 {
		t.Errorf("%d audit entries for the 3 attempts", n)
	}
	if n := e.count("audit", "detail LIKE '%99999999%' OR actor LIKE '%99999999%'"); n != 0 {
		t.Error("the unknown NUMIC is in clear in the audit log")
	}
	if strings.Contains(e.logs.String(), "99999999") {
		t.Error("the unknown NUMIC is in the logs")
	}
	// And a match answers the very same.
	if err := e.request(marie.NUMIC, marie.Email); err != nil {
		t.Fatal(err)
	}
	if n := e.count("outbox", "1"); n != 1 {
		t.Errorf("%d messages after a match, want 1", n)
	}
}

func TestRateLimit(t *testing.T) {
	// A request that matches no voter is limited per source instead (here
	// set to the NUMIC's limit): TestStrangerCannotSpendVoterQuota.
	for _, tc := range []struct{ name, numic, email string }{
		{"matching voter", marie.NUMIC, marie.Email},
		{"unknown NUMIC", "99999999", "x@example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvCfg(t, func(c *service.Config) { c.SourceRequests = c.MaxRequests })
			first := e.clock.Now()
			for i := range 3 {
				if err := e.request(tc.numic, tc.email); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				e.clock.Advance(10 * time.Minute)
			}
			// Answered like the others: the limit shows in the audit log,
			// and a matching voter gets one e-mail saying until when.
			if err := e.request(tc.numic, tc.email); err != nil {
				t.Fatalf("4th request: %v, want the neutral answer", err)
			}
			if n := e.count("audit", "action = 'identifier.request.rate_limited'"); n != 1 {
				t.Fatalf("%d rate limits audited", n)
			}
			text, n := e.refusalMail("identifier")
			match := tc.numic == marie.NUMIC
			if match != (n == 1) || (match && !strings.Contains(text, "à partir du "+mailTime(first.Add(time.Hour)))) {
				t.Fatalf("%d refusal e-mails (%q), want one for a match only, saying until %v", n, text, first.Add(time.Hour))
			}

			// Another NUMIC is not limited.
			if err := e.request(service.DemoRoll[1].NUMIC, service.DemoRoll[1].Email); err != nil {
				t.Errorf("other NUMIC: %v", err)
			}
			links := e.count("links", "1")
			// One nanosecond before the first request leaves the window: still limited.
			e.clock.Advance(first.Add(time.Hour).Sub(e.clock.Now()) - time.Nanosecond)
			if err := e.request(tc.numic, tc.email); err != nil || e.count("links", "1") != links {
				t.Fatalf("just before the window ends: %v, %d links (was %d)", err, e.count("links", "1"), links)
			}
			if _, n2 := e.refusalMail("identifier"); n2 != n {
				t.Errorf("a second refusal e-mail in the same window (%d)", n2)
			}
			e.clock.Advance(time.Nanosecond)
			if err := e.request(tc.numic, tc.email); err != nil {
				t.Fatalf("once the first request left the window: %v", err)
			}
			if match && e.count("links", "1") != links+1 {
				t.Fatal("no link once the first request left the window")
			}
		})
	}
}

func TestLinkExpiry(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	st, err := e.svc.Portal.InspectLink(e.ctx, link)
	if err != nil || st.State != portal.LinkValid {
		t.Fatalf("fresh link: %+v, %v", st, err)
	}
	if want := e.clock.Now().Add(time.Hour); !st.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", st.ExpiresAt, want)
	}
	e.clock.Advance(time.Hour - time.Nanosecond)
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkValid {
		t.Fatalf("1 ns before expiry: %v", st.State)
	}
	e.clock.Advance(time.Nanosecond)
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkExpired {
		t.Fatalf("at expiry: %v", st.State)
	}
	if _, err := e.confirm(link, marie.Password); !errors.Is(err, portal.ErrLinkExpired) {
		t.Fatalf("confirm at expiry: %v", err)
	}
}

func TestConfirmJustBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	e.clock.Advance(time.Hour - time.Minute)
	codeID := e.code()
	e.clock.Advance(time.Minute - time.Nanosecond)
	r, err := e.svc.Portal.ConfirmIdentifierRenewal(e.ctx, portal.ConfirmRequest{
		Link: link, Password: marie.Password, CodeID: codeID, Code: rightCode})
	if err != nil || r.Identifier == "" {
		t.Fatalf("confirm 1 ns before expiry: %+v, %v", r, err)
	}
}

func TestRenewalFlow(t *testing.T) {
	e := newEnv(t)
	link := e.requestLink()
	msgs, err := e.svc.Portal.Messages(e.ctx, 10)
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, link) || msgs[0].Channel != "email" {
		t.Fatalf("demo outbox: %+v, %v", msgs, err)
	}

	// Inspecting never consumes, however often (mail scanners do it).
	for range 3 {
		if st, err := e.svc.Portal.InspectLink(e.ctx, link); err != nil || st.State != portal.LinkValid {
			t.Fatalf("inspect: %+v, %v", st, err)
		}
	}
	// A bare token is as good as the link.
	token := link[strings.Index(link, "jeton=")+len("jeton="):]
	if st, _ := e.svc.Portal.InspectLink(e.ctx, token); st.State != portal.LinkValid {
		t.Fatalf("bare token: %v", st.State)
	}

	sess, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password)
	if err != nil {
		t.Fatalf("login with the old identifier before renewal: %v", err)
	}

	r, err := e.confirm(" <"+link+"> ", marie.Password)
	if err != nil {
		t.Fatal(err)
	}
	if r.NUMIC != marie.NUMIC {
		t.Errorf("renewal NUMIC = %q", r.NUMIC)
	}
	if len(r.Identifier) != 12 || strings.Trim(r.Identifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Fatalf("identifier %q is not 12 letters and digits", r.Identifier)
	}
	if r.Identifier == marie.Identifier {
		t.Fatal("identifier unchanged")
	}

	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkUsed {
		t.Errorf("after confirm: %v, want used", st.State)
	}
	if _, err := e.confirm(link, marie.Password); !errors.Is(err, portal.ErrLinkUsed) {
		t.Errorf("second confirm: %v, want link used", err)
	}
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); !errors.Is(err, portal.ErrBadLogin) {
		t.Errorf("old identifier: %v, want bad login", err)
	}
	s2, err := e.svc.Portal.Login(e.ctx, r.Identifier, marie.Password)
	if err != nil {
		t.Fatalf("new identifier: %v", err)
	}
	if s2.NUMICMasked != "••••2345" || s2.FirstNames != marie.FirstNames || s2.LastLogin.IsZero() {
		t.Errorf("session summary %+v", s2)
	}
	// The renewal ended the session opened with the old identifier.
	if n := e.count("sessions", "1"); n != 1 {
		t.Errorf("%d sessions, want only the new one", n)
	}
	_ = sess

	// A notice without the secret went to the voter.
	var notice *servicetest.Message
	for _, m := range e.outbox() {
		if m.Kind == "identifier.changed" {
			notice = &m
		}
	}
	if notice == nil || notice.To != marie.Email {
		t.Fatalf("no notice e-mail: %+v", e.outbox())
	}
	if strings.Contains(string(notice.Raw), r.Identifier) {
		t.Error("the notice e-mail holds the new identifier")
	}
	if n := e.count("audit", "action = 'identifier.renewed'"); n != 1 {
		t.Errorf("%d renewal audit entries", n)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	john := service.DemoRoll[1]
	for _, tc := range []struct {
		name, id, pw string
		want         error
	}{
		{"empty", "", "", portal.ErrInvalidInput},
		{"too long", strings.Repeat("x", 200), "x", portal.ErrInvalidInput},
		{"unknown identifier", "AAAAAAAAAAAA", john.Password, portal.ErrBadLogin},
		{"wrong password", john.Identifier, "nope", portal.ErrBadLogin},
		{"another voter's password", john.Identifier, marie.Password, portal.ErrBadLogin},
		{"right", " " + john.Identifier + " ", john.Password, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.svc.Portal.Login(e.ctx, tc.id, tc.pw)
			if tc.want == nil {
				if err != nil || len(s.Token) < 40 || s.LastName != john.LastName {
					t.Fatalf("login: %+v, %v", s, err)
				}
				if !s.ExpiresAt.Equal(e.clock.Now().Add(30 * time.Minute)) {
					t.Errorf("session expires %v", s.ExpiresAt)
				}
				if err := e.svc.Portal.Logout(e.ctx, s.Token); err != nil {
					t.Fatal(err)
				}
				if n := e.count("sessions", "1"); n != 0 {
					t.Errorf("%d sessions after logout", n)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReplacedLink(t *testing.T) {
	e := newEnv(t)
	first := e.requestLink()
	e.clock.Advance(time.Minute)
	second := e.requestLink()
	if first == second {
		t.Fatal("same link twice")
	}
	if st, _ := e.svc.Portal.InspectLink(e.ctx, first); st.State != portal.LinkReplaced {
		t.Fatalf("older link: %v, want replaced", st.State)
	}
	if _, err := e.confirm(first, marie.Password); !errors.Is(err, portal.ErrLinkReplaced) {
		t.Fatalf("confirm older link: %v", err)
	}
	if _, err := e.confirm(second, marie.Password); err != nil {
		t.Fatalf("confirm newer link: %v", err)
	}
}

func TestLinkInputs(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []string{"", "bonjour", "https://vote.example/renouvellement", "https://vote.example/autre?jeton=" + strings.Repeat("A", 43),
		"https://vote.example/renouvellement?jeton=" + strings.Repeat("A", 42), strings.Repeat("A", 44), "'; DROP TABLE links; --"} {
		if _, err := e.svc.Portal.InspectLink(e.ctx, bad); !errors.Is(err, portal.ErrLinkInvalid) {
			t.Errorf("InspectLink(%q) = %v, want invalid", bad, err)
		}
		if _, err := e.confirm(bad, marie.Password); !errors.Is(err, portal.ErrInvalidInput) ||
			!slices.Contains(portal.FieldErrors(err), portal.FieldError{Field: portal.FieldLink, Reason: portal.ReasonFormat}) {
			t.Errorf("confirm(%q) = %v, want invalid link field", bad, err)
		}
	}
	unknown := "https://vote.example/renouvellement?jeton=" + strings.Repeat("A", 43)
	if st, err := e.svc.Portal.InspectLink(e.ctx, unknown); err != nil || st.State != portal.LinkUnknown {
		t.Errorf("unknown token: %+v, %v", st, err)
	}
	if _, err := e.confirm(unknown, marie.Password); !errors.Is(err, portal.ErrLinkUnknown) {
		t.Errorf("confirm unknown token: %v", err)
	}
}

func TestSeedDemoRollOnce(t *testing.T) {
	e := newEnv(t) // seeded
	if err := e.svc.Operator.SeedDemoRoll(e.ctx); !errors.Is(err, service.ErrRollNotEmpty) {
		t.Fatalf("second seed: %v, want ErrRollNotEmpty", err)
	}
	if n := e.count("voters", "1"); n != len(service.DemoRoll) {
		t.Fatalf("%d voters, want %d", n, len(service.DemoRoll))
	}
	for _, d := range service.DemoRoll {
		if _, err := e.svc.Portal.Login(e.ctx, d.Identifier, d.Password); err != nil {
			t.Errorf("demo voter %s cannot log in: %v", d.NUMIC, err)
		}
	}
}

// TestPurgeRateEvents: the periodic purge deletes the events no window
// counts any more, over several batches, for keys never counted again;
// it never frees a limit early, even purging while requests run.
func TestPurgeRateEvents(t *testing.T) {
	e := newEnv(t)
	const old = 2500 // three batches
	err := e.db.Update(e.ctx, func(tx service.Tx) error {
		for i := range old {
			if err := tx.AddRateEvent([]byte(fmt.Sprintf("numic#%d", i)), e.clock.Now().Add(-e.cfg.RateWindow-time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := e.request(marie.NUMIC, marie.Email); err != nil {
			t.Fatal(err)
		}
	}
	// Purges racing with requests of the same NUMIC: still 3 served in the
	// window, the 4th limited.
	var wg sync.WaitGroup
	var purged atomic.Int64
	for range 4 {
		wg.Go(func() {
			n, err := e.svc.Operator.PurgeRateEvents(e.ctx)
			if err != nil {
				t.Error(err)
			}
			purged.Add(int64(n))
		})
	}
	if err := e.request(marie.NUMIC, marie.Email); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// The 3 requests' and the refusal notice's; the purges may also have
	// taken the source's key, looked up but never counted.
	recent := e.count("rate_limits", "LENGTH(times) > 0")
	events := e.count("rate_limits", "1")
	if purged.Load() < old || recent != 2 || e.count("rate_limits", "LENGTH(times) = 3*8") != 1 {
		t.Fatalf("purged %d of %d old keys, %d keys left (want the NUMIC's 3 events and the notice's)", purged.Load(), old, recent)
	}
	if n := e.count("audit", "action = 'identifier.request.rate_limited'"); n != 1 {
		t.Fatalf("%d requests limited after the purge, want the 4th", n)
	}
	e.clock.Advance(e.cfg.RateWindow + time.Second)
	codes := e.count("spent_codes", "1") // the 4 requests', expired too
	if n, err := e.svc.Operator.PurgeRateEvents(e.ctx); err != nil || n != events+codes || e.count("rate_limits", "1") != 0 {
		t.Fatalf("purged %d, %v; want the %d keys now out of the window and the %d spent codes", n, err, events, codes)
	}
}
