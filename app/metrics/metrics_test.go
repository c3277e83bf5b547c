package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"consulvote/app/api"
	"consulvote/app/metrics"
	"consulvote/app/outbox"
	"consulvote/app/outbox/smtptest"
	"consulvote/app/portal"
	"consulvote/app/server"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// rig is a service observed by metrics, its public API served from
// 127.0.0.2 (so that a client address in a label would show) and an
// internal handler with /metrics.
type rig struct {
	t        *testing.T
	env      *servicetest.Env
	m        *metrics.Metrics
	public   string // base URL
	internal string
	client   *http.Client
}

func newRig(t *testing.T) *rig {
	m := metrics.New()
	env := servicetest.New(t, servicetest.Config(), service.Options{Observer: m})
	m.Watch(env.Service.Operator, nil)
	pub := httptest.NewServer(server.New(env.Service.Portal, server.Options{PerClient: -1, Observer: m}))
	t.Cleanup(pub.Close)
	in := httptest.NewServer(server.New(nil, server.Options{PerClient: -1, OfficeOnly: true, Office: env.Service.Office,
		Observer: m, Metrics: m.Handler()}))
	t.Cleanup(in.Close)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	return &rig{t: t, env: env, m: m, public: pub.URL, internal: in.URL,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}}
}

// post sends v as JSON to the public API and decodes the answer into out.
func (r *rig) post(path string, v, out any) int {
	r.t.Helper()
	b, _ := json.Marshal(v)
	resp, err := r.client.Post(r.public+path, api.ContentType, bytes.NewReader(b))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (r *rig) code() string {
	r.t.Helper()
	var c api.SecurityCode
	if st := r.post(api.SecurityCodes, struct{}{}, &c); st != http.StatusCreated {
		r.t.Fatalf("security code: %d", st)
	}
	return c.ID
}

// scrape reads /metrics from the internal handler as Prometheus would.
func (r *rig) scrape() map[string]*dto.MetricFamily {
	r.t.Helper()
	resp, err := http.Get(r.internal + server.MetricsPath)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		r.t.Fatalf("scrape: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		r.t.Fatalf("scrape: not the Prometheus text format: %v", err)
	}
	return fams
}

// value is the value of the series of name whose labels include want; 0
// when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	total := 0.0
series:
	for _, s := range f.Metric {
		labels := map[string]string{}
		for _, l := range s.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue series
			}
		}
		switch {
		case s.Counter != nil:
			total += s.Counter.GetValue()
		case s.Gauge != nil:
			total += s.Gauge.GetValue()
		case s.Histogram != nil:
			total += float64(s.Histogram.GetSampleCount())
		}
	}
	return total
}

// lastLink is the renewal link of the newest message in the outbox.
func (r *rig) lastLink() string {
	r.t.Helper()
	ms, err := r.env.Service.Portal.Messages(context.Background(), 1)
	if err != nil || len(ms) != 1 {
		r.t.Fatalf("outbox: %v %v", ms, err)
	}
	link := linkRE.FindString(ms[0].Text)
	if link == "" {
		r.t.Fatalf("no link in %q", ms[0].Text)
	}
	return link
}

var linkRE = regexp.MustCompile(`https://vote\.example/renouvellement\?jeton=[A-Za-z0-9_-]{43}`)

// TestRenewalMovesTheRightCounters: one identifier renewal, done over the
// API, moves exactly the counters it should, by the amounts it should;
// a wrong code and a miss move theirs.
func TestRenewalMovesTheRightCounters(t *testing.T) {
	r := newRig(t)
	marie := service.DemoRoll[0]
	before := r.scrape()

	if st := r.post(api.IdentifierRenewals, api.IdentifierRenewalRequest{NUMIC: marie.NUMIC, Email: marie.Email,
		CodeID: r.code(), Code: servicetest.Code}, nil); st != http.StatusAccepted {
		t.Fatalf("renewal request: %d", st)
	}
	link := r.lastLink()
	var renewal api.Renewal
	if st := r.post(api.IdentifierConfirm, api.ConfirmRequest{Link: link, Password: marie.Password,
		CodeID: r.code(), Code: servicetest.Code}, &renewal); st != http.StatusOK || renewal.Identifier == "" {
		t.Fatalf("confirm: %d %+v", st, renewal)
	}
	after := r.scrape()
	for _, c := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"consulvote_security_codes_total", map[string]string{"event": "drawn"}, 2},
		{"consulvote_security_codes_total", map[string]string{"event": "right"}, 2},
		{"consulvote_security_codes_total", map[string]string{"event": "wrong"}, 0},
		{"consulvote_renewal_requests_total", map[string]string{"kind": "identifier", "outcome": "accepted"}, 1},
		{"consulvote_renewal_requests_total", nil, 1},
		{"consulvote_renewal_confirmations_total", map[string]string{"kind": "identifier", "outcome": "confirmed"}, 1},
		{"consulvote_renewal_confirmations_total", nil, 1},
		{"consulvote_locks_total", nil, 0},
		{"consulvote_logins_total", nil, 0},
		{"consulvote_password_hash_wait_seconds", nil, 1}, // the confirmation's password check
		{"consulvote_http_requests_total", map[string]string{"route": "POST " + api.IdentifierRenewals, "code": "202"}, 1},
		{"consulvote_http_requests_total", map[string]string{"route": "POST " + api.IdentifierConfirm, "code": "200"}, 1},
		{"consulvote_http_requests_total", map[string]string{"route": "POST " + api.SecurityCodes, "code": "201"}, 2},
		{"consulvote_http_request_duration_seconds", map[string]string{"route": "POST " + api.IdentifierConfirm}, 1},
		{"consulvote_outbox_messages", map[string]string{"channel": "email", "state": "pending"}, 2}, // the link, the notice
	} {
		if d := value(after, c.name, c.labels) - value(before, c.name, c.labels); d != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, d, c.delta)
		}
	}
	if v := value(after, "consulvote_store_transaction_seconds", map[string]string{"op": "update"}) -
		value(before, "consulvote_store_transaction_seconds", map[string]string{"op": "update"}); v != 3 {
		// The request's one; the confirmation's attempt, before the
		// password check, and its outcome. Drawing a code writes nothing.
		t.Errorf("%v update transactions timed for a renewal, want 3", v)
	}

	// A wrong code, and a NUMIC not on the roll: the voter sees an error
	// and the neutral answer; the operator sees why.
	before = after
	if st := r.post(api.IdentifierRenewals, api.IdentifierRenewalRequest{NUMIC: marie.NUMIC, Email: marie.Email,
		CodeID: r.code(), Code: "1234"}, nil); st != http.StatusBadRequest && st != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d", st)
	}
	if st := r.post(api.IdentifierRenewals, api.IdentifierRenewalRequest{NUMIC: "99999999", Email: "personne@example.org",
		CodeID: r.code(), Code: servicetest.Code}, nil); st != http.StatusAccepted {
		t.Fatalf("miss: %d, want the neutral 202", st)
	}
	after = r.scrape()
	for _, c := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"consulvote_security_codes_total", map[string]string{"event": "wrong"}, 1},
		{"consulvote_renewal_requests_total", map[string]string{"kind": "identifier", "outcome": "security_code_wrong"}, 1},
		{"consulvote_renewal_requests_total", map[string]string{"kind": "identifier", "outcome": "no_match"}, 1},
		{"consulvote_renewal_requests_total", map[string]string{"kind": "identifier", "outcome": "accepted"}, 0},
	} {
		if d := value(after, c.name, c.labels) - value(before, c.name, c.labels); d != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, d, c.delta)
		}
	}
}

// TestScrapeNamesTypesAndNoSecrets: after a renewal, a lock, a delivery
// and a failed one, every metric an operator's alerts use is there with
// its type, and no label carries a NUMIC, an e-mail address, a mobile
// number, an identifier, a password, a link's token, a code's id, the
// client's address or the relay's credentials.
func TestScrapeNamesTypesAndNoSecrets(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	marie, john := service.DemoRoll[0], service.DemoRoll[1]
	codeID := r.code()
	if st := r.post(api.IdentifierRenewals, api.IdentifierRenewalRequest{NUMIC: marie.NUMIC, Email: marie.Email,
		CodeID: codeID, Code: servicetest.Code}, nil); st != http.StatusAccepted {
		t.Fatalf("renewal request: %d", st)
	}
	link := r.lastLink()
	token := strings.TrimPrefix(link, "https://vote.example/renouvellement?jeton=")
	if st := r.post(api.IdentifierConfirm, api.ConfirmRequest{Link: link, Password: "not her password",
		CodeID: r.code(), Code: servicetest.Code}, nil); st != http.StatusUnauthorized && st != http.StatusBadRequest {
		t.Fatalf("confirm with a wrong password: %d", st)
	}
	for range 5 { // the fifth locks john
		r.post(api.Sessions, api.LoginRequest{Identifier: john.Identifier, Password: "not his password"}, nil)
	}
	// An agent's name guessed from one source: the fifth blocks it.
	if _, err := r.env.Service.Operator.AddAgent(ctx, "alice", portal.RoleAgent, "correct horse battery", false, portal.Scope{Central: true}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, _ := json.Marshal(map[string]string{"name": "alice", "password": "not her password"})
		resp, err := r.client.Post(r.internal+api.AgentSessions, api.ContentType, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// One e-mail delivered to a real SMTP server, one SMS failed at a
	// gateway that refuses.
	relay := smtptest.Start(t)
	relay.Plain = true
	relay.Stop()
	relay.Start()
	mail, err := outbox.ParseSMTPURL("smtp://relay:"+relay.Password()+"@"+relay.Addr, "none")
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer gw.Close()
	ines := service.DemoRoll[2]
	c, err := r.env.Service.Portal.NewSecurityCode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.env.Service.Portal.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest{Identifier: ines.Identifier,
		NUMIC: ines.NUMIC, CodeID: c.ID, Code: servicetest.Code}); err != nil {
		t.Fatal(err)
	}
	w := &outbox.Worker{Store: r.env.DB, Open: r.env.Service.Operator.OpenMessage, From: "vote@example.org",
		Mail: mail, MailRelay: "relay.example.org", SMS: outbox.HTTPGateway{URL: gw.URL, Token: "gw-secret-token"},
		SMSRelay: "sms.example.org", Observer: r.m}
	if _, err := w.Once(ctx); err != nil {
		t.Fatal(err)
	}

	fams := r.scrape()
	checkREADME(t, fams)
	for name, typ := range map[string]dto.MetricType{
		"consulvote_http_requests_total":               dto.MetricType_COUNTER,
		"consulvote_http_request_duration_seconds":     dto.MetricType_HISTOGRAM,
		"consulvote_security_codes_total":              dto.MetricType_COUNTER,
		"consulvote_renewal_requests_total":            dto.MetricType_COUNTER,
		"consulvote_renewal_confirmations_total":       dto.MetricType_COUNTER,
		"consulvote_logins_total":                      dto.MetricType_COUNTER,
		"consulvote_locks_total":                       dto.MetricType_COUNTER,
		"consulvote_password_hash_queue":               dto.MetricType_GAUGE,
		"consulvote_password_hash_running":             dto.MetricType_GAUGE,
		"consulvote_password_hash_wait_seconds":        dto.MetricType_HISTOGRAM,
		"consulvote_password_hashes_total":             dto.MetricType_COUNTER,
		"consulvote_password_hash_refused_total":       dto.MetricType_COUNTER,
		"consulvote_store_transaction_seconds":         dto.MetricType_HISTOGRAM,
		"consulvote_outbox_messages":                   dto.MetricType_GAUGE,
		"consulvote_outbox_oldest_pending_age_seconds": dto.MetricType_GAUGE,
		"consulvote_outbox_depth_up":                   dto.MetricType_GAUGE,
		"consulvote_outbox_deliveries_total":           dto.MetricType_COUNTER,
		"consulvote_outbox_delivery_seconds":           dto.MetricType_HISTOGRAM,
		"consulvote_outbox_failures_total":             dto.MetricType_COUNTER,
		"go_goroutines":                                dto.MetricType_GAUGE,
		"process_resident_memory_bytes":                dto.MetricType_GAUGE,
	} {
		f := fams[name]
		switch {
		case f == nil:
			t.Errorf("%s is missing", name)
		case f.GetType() != typ:
			t.Errorf("%s is a %v, want a %v", name, f.GetType(), typ)
		case f.GetHelp() == "":
			t.Errorf("%s has no help", name)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"consulvote_locks_total", map[string]string{"account": "voter"}, 1},
		{"consulvote_locks_total", map[string]string{"account": "agent_source"}, 1},
		{"consulvote_logins_total", map[string]string{"outcome": "bad_login"}, 4},
		{"consulvote_logins_total", map[string]string{"outcome": "locked"}, 1},
		{"consulvote_renewal_requests_total", map[string]string{"kind": "password", "outcome": "accepted"}, 1},
		{"consulvote_outbox_deliveries_total", map[string]string{"channel": "email", "relay": "relay.example.org"}, 2},
		{"consulvote_outbox_failures_total", map[string]string{"channel": "sms", "relay": "sms.example.org", "final": "false"}, 1},
		{"consulvote_outbox_messages", map[string]string{"channel": "sms", "state": "pending"}, 1},
		{"consulvote_outbox_messages", map[string]string{"channel": "email", "state": "failed"}, 0},
		{"consulvote_outbox_depth_up", nil, 1},
	} {
		if v := value(fams, c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if v := value(fams, "consulvote_outbox_oldest_pending_age_seconds", nil); v <= 0 {
		t.Errorf("oldest pending age %v with an SMS pending", v)
	}
	if got := len(relay.Messages()); got != 2 {
		t.Errorf("the relay got %d messages, want 2", got)
	}

	secrets := []string{"alice", "not her password", marie.NUMIC, marie.Email, marie.Mobile, marie.Identifier, marie.Password,
		john.NUMIC, john.Identifier, ines.NUMIC, ines.Identifier, ines.Mobile, c.ID, "not his password", token, codeID, "127.0.0.2", relay.Password(), "gw-secret-token",
		"@example.org", "jeton"}
	for i, secret := range secrets {
		if secret == "" {
			t.Fatalf("secret %d is empty: the test would find it everywhere", i)
		}
	}
	for name, f := range fams {
		for _, s := range f.Metric {
			for _, l := range s.Label {
				for _, secret := range secrets {
					if strings.Contains(l.GetValue(), secret) || strings.Contains(l.GetName(), secret) {
						t.Errorf("%s has label %s=%q, which carries %q", name, l.GetName(), l.GetValue(), secret)
					}
				}
			}
		}
	}
}

// TestDepthDownWhenTheStoreFails: a scrape still answers when the
// database does not, with consulvote_outbox_depth_up at 0 and no depth.
func TestDepthDownWhenTheStoreFails(t *testing.T) {
	r := newRig(t)
	if v := value(r.scrape(), "consulvote_outbox_depth_up", nil); v != 1 {
		t.Fatalf("depth_up = %v on a working store", v)
	}
	r.env.DB.Close()
	fams := r.scrape()
	if v := value(fams, "consulvote_outbox_depth_up", nil); v != 0 {
		t.Errorf("depth_up = %v on a closed store, want 0", v)
	}
	if fams["consulvote_outbox_messages"] != nil {
		t.Errorf("outbox depth reported from a closed store")
	}
}

// checkREADME: the table of metrics in docs/operations.md is what a
// scrape shows, names and types, no more and no less; every metric its
// alerts use exists.
func checkREADME(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	section := func(title string) string {
		i := strings.Index(readme, "\n### "+title+"\n")
		if i < 0 {
			t.Fatalf("docs/operations.md has no section %q", title)
		}
		rest := readme[i+len(title)+6:]
		if j := strings.Index(rest, "\n### "); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	types := map[string]dto.MetricType{"counter": dto.MetricType_COUNTER, "gauge": dto.MetricType_GAUGE,
		"histogram": dto.MetricType_HISTOGRAM}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(consulvote_[a-z_]+)` \\| ([a-z]+) \\|").FindAllStringSubmatch(section("Metrics"), -1) {
		listed[m[1]] = true
		switch f := fams[m[1]]; {
		case f == nil:
			t.Errorf("docs/operations.md lists %s, which the scrape does not show", m[1])
		case f.GetType() != types[m[2]]:
			t.Errorf("docs/operations.md says %s is a %s; it is a %v", m[1], m[2], f.GetType())
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "consulvote_") && !listed[name] {
			t.Errorf("%s is not in the table of metrics of docs/operations.md", name)
		}
	}
	alerts := section("Alerts")
	used := regexp.MustCompile(`consulvote_[a-z_]+`).FindAllString(alerts, -1)
	if len(used) < 10 {
		t.Fatalf("the alerts of docs/operations.md name %d metrics", len(used))
	}
	for _, name := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f := fams[strings.TrimSuffix(name, suffix)]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
				base = strings.TrimSuffix(name, suffix)
			}
		}
		if fams[base] == nil {
			t.Errorf("an alert of docs/operations.md uses %s, which the scrape does not show", name)
		}
	}
}
