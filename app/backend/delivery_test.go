package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"consulvote/app/metrics"
	"consulvote/app/receipt"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// TestSMSReceipts: the gateway's id of each SMS is kept when it takes it;
// its receipts, over real HTTP with the gateway's token, set the SMS's
// state in the store: delivered, or refused with the gateway's error; a
// replay, an unknown id or a bad token changes nothing.
func TestSMSReceipts(t *testing.T) {
	var mu sync.Mutex
	n := 0
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		fmt.Fprintf(w, `{"id": "gw-%d"}`, n)
		mu.Unlock()
	}))
	defer gw.Close()
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true,
		SMSGateway: gw.URL, SMSReceiptToken: "receipt-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var roll strings.Builder
	if _, err := servicetest.WriteRoll(&roll, 2, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.ImportRoll(ctx, "test", strings.NewReader(roll.String()), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.SendFirstCredentials(ctx, "test", "mai", nil); err != nil {
		t.Fatal(err)
	}
	b.Start()
	sms := func() map[string]service.Message {
		out := map[string]service.Message{}
		b.Store.View(ctx, func(tx service.Tx) error {
			ms, err := tx.Messages(service.MessageFilter{Limit: 10})
			for _, m := range ms {
				if m.Channel == service.ChannelSMS && m.GatewayID != "" {
					out[m.GatewayID] = m
				}
			}
			return err
		})
		return out
	}
	waitFor(t, "both SMS sent with their gateway ids", func() bool { return len(sms()) == 2 })
	rs := httptest.NewServer(b.Receipts())
	defer rs.Close()
	post := func(token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, rs.URL+receipt.Path+"primary", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		token, body string
		code        int
	}{
		{"receipt-token", `{"id": "gw-1", "status": "delivered"}`, 204},
		{"receipt-token", `{"id": "gw-1", "status": "undelivered", "error": "34"}`, 204}, // a final state stays
		{"receipt-token", `{"id": "gw-2", "status": "undelivered", "error": "EC_ABSENT_SUBSCRIBER"}`, 204},
		{"receipt-token", `{"id": "gw-3", "status": "delivered"}`, 404},
		{"wrong", `{"id": "gw-2", "status": "delivered"}`, 401},
	} {
		if got := post(c.token, c.body); got != c.code {
			t.Errorf("%s: %d, want %d", c.body, got, c.code)
		}
	}
	got := sms()
	if m := got["gw-1"]; m.Delivery != "delivered" || m.DeliveryAt.IsZero() {
		t.Errorf("gw-1: %+v", m)
	}
	if m := got["gw-2"]; m.Delivery != "refused" || m.DeliveryStatus != "error EC_ABSENT_SUBSCRIBER" {
		t.Errorf("gw-2: %+v", m)
	}
}

// gateway is a fake SMS gateway over real HTTP that names its messages
// prefix-1, prefix-2, … and keeps to whom it sent.
type gateway struct {
	*httptest.Server
	mu sync.Mutex
	to []string
}

func newGateway(t *testing.T, prefix string) *gateway {
	g := &gateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To string }
		json.NewDecoder(r.Body).Decode(&m)
		g.mu.Lock()
		g.to = append(g.to, m.To)
		fmt.Fprintf(w, `{"id": "%s-%d"}`, prefix, len(g.to))
		g.mu.Unlock()
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gateway) sent() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.to...)
}

// TestSMSFallback: an SMS the first gateway reports undelivered, and one
// it never confirms, go once through the fallback gateway, never twice
// through either; a delivered one does not; the fallback's receipts set
// the state; no SMS's sealed body stays. /metrics counts each SMS relayed
// once (the fallback's handovers only by its relay) and each state change
// once.
func TestSMSFallback(t *testing.T) {
	primary, fallback := newGateway(t, "p"), newGateway(t, "f")
	ctx := context.Background()
	m := metrics.New()
	b, err := Open(ctx, Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true,
		SMSGateway: primary.URL, SMSReceiptToken: "rp", SMSFallback: fallback.URL, SMSFallbackReceiptToken: "rf",
		SMSFallbackAfter: 1500 * time.Millisecond, Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var roll strings.Builder
	if _, err := servicetest.WriteRoll(&roll, 3, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.ImportRoll(ctx, "test", strings.NewReader(roll.String()), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Operator.SendFirstCredentials(ctx, "test", "mai", nil); err != nil {
		t.Fatal(err)
	}
	b.Start()
	waitFor(t, "3 SMS through the primary gateway", func() bool { return len(primary.sent()) == 3 })
	rs := httptest.NewServer(b.Receipts())
	defer rs.Close()
	post := func(gw, token, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, rs.URL+receipt.Path+gw, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("receipt %s: %d", body, resp.StatusCode)
		}
	}
	waitFor(t, "the gateway ids kept", func() bool {
		n := 0
		b.Store.View(ctx, func(tx service.Tx) error {
			ms, _ := tx.Messages(service.MessageFilter{Limit: 10})
			for _, m := range ms {
				if m.GatewayID != "" {
					n++
				}
			}
			return nil
		})
		return n == 3
	})
	post("primary", "rp", `{"id": "p-1", "status": "delivered"}`)
	post("primary", "rp", `{"id": "p-2", "status": "undelivered", "error": "34"}`)
	waitFor(t, "the undelivered SMS through the fallback", func() bool { return len(fallback.sent()) >= 1 })
	waitFor(t, "the unconfirmed SMS through the fallback", func() bool { return len(fallback.sent()) >= 2 })
	post("fallback", "rf", `{"id": "f-1", "status": "delivered"}`)
	time.Sleep(3 * time.Second) // past another FallbackAfter: nothing more goes
	p, f := primary.sent(), fallback.sent()
	if len(p) != 3 || len(f) != 2 || f[0] == f[1] || f[0] != p[1] || f[1] != p[2] {
		t.Fatalf("primary sent to %v, fallback to %v; want 3, then the 2nd and 3rd once", p, f)
	}
	b.Store.View(ctx, func(tx service.Tx) error {
		ms, _ := tx.Messages(service.MessageFilter{Limit: 10})
		for _, m := range ms {
			if m.Channel != service.ChannelSMS {
				continue
			}
			if len(m.Body) != 0 {
				t.Errorf("SMS %d keeps its sealed body: %+v", m.ID, m)
			}
			want := map[string]string{"p-1": "primary delivered", "f-1": "fallback delivered", "f-2": "fallback "}[m.GatewayID]
			if got := m.Gateway + " " + m.Delivery; want == "" || got != want {
				t.Errorf("SMS %s: %q, want %q", m.GatewayID, got, want)
			}
		}
		return nil
	})
	got := counts(t, m)
	want := map[string]float64{
		"consulvote_delivery_total sms relayed": 3, "consulvote_delivery_total sms delivered": 2,
		"consulvote_delivery_total sms refused": 1, "consulvote_delivery_total sms expired": 0,
		"consulvote_outbox_deliveries_total sms": 5, // 3 handovers to the primary, 2 to the fallback
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// counts sums the counters of ms by name, channel and state (when the
// counter has one): "consulvote_delivery_total sms relayed".
func counts(t testing.TB, ms ...*metrics.Metrics) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range ms {
		fams, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			for _, x := range f.Metric {
				key := f.GetName()
				for _, l := range x.Label {
					if l.GetName() == "channel" || l.GetName() == "state" {
						key += " " + l.GetValue()
					}
				}
				out[key] += x.GetCounter().GetValue()
			}
		}
	}
	return out
}

// TestReportBeforeItsMark: a report of an e-mail the relay took but that
// is not marked sent yet (the report came faster than the mark) is
// answered "try again later", changing nothing; the relay's next try,
// once the mark is there, sets the state. A report of a message that
// never was is taken and dropped.
func TestReportBeforeItsMark(t *testing.T) {
	ctx := context.Background()
	m := metrics.New()
	b, err := Open(ctx, Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true,
		BounceAddress: "bounce+{ref}@vote.example", Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in := b.Intake()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go in.Serve(l)
	defer in.Close()
	var id int64
	if err := b.Store.Update(ctx, func(tx service.Tx) (err error) {
		id, err = tx.Enqueue(service.Message{Channel: service.ChannelEmail, Kind: "other",
			Recipient: "v@example.org", Body: []byte("x"), CreatedAt: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	send := func(id int64) error {
		addr, ref := b.Bounces.ReturnPath(id)
		c, err := smtp.Dial(l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		return c.SendMail("", []string{addr}, strings.NewReader(report("v@example.org", ref)))
	}
	delivery := func() string {
		var got []service.Message
		b.Store.View(ctx, func(tx service.Tx) (err error) {
			got, err = tx.Messages(service.MessageFilter{ID: id})
			return err
		})
		if len(got) != 1 {
			t.Fatalf("message %d: %d found", id, len(got))
		}
		return got[0].Delivery
	}
	var se *smtp.SMTPError
	if err := send(id); !errors.As(err, &se) || se.Code != 451 || delivery() != "" {
		t.Fatalf("a report before the mark: %v, delivery %q; want 451, none", err, delivery())
	}
	if err := b.Store.MarkSent(ctx, id, time.Now(), "", "", false); err != nil {
		t.Fatal(err)
	}
	if err := send(id); err != nil || delivery() != "refused" {
		t.Fatalf("the relay's next try: %v, delivery %q; want refused", err, delivery())
	}
	if err := send(id + 1); err != nil {
		t.Fatalf("a report of no message: %v, want taken (and dropped)", err)
	}
	got := counts(t, m)
	if got["consulvote_bounces_total"] != 3 || got["consulvote_delivery_total email refused"] != 1 {
		t.Errorf("counts %v", got)
	}
}
