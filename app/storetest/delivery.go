package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// sentFour queues four messages of voter and marks them sent, the SMS
// (the third) through the primary gateway as gw-1, and returns their ids.
func sentFour(t *testing.T, st Store, voter int64) []int64 {
	t.Helper()
	ids := enqueue(t, st,
		service.Message{VoterID: voter, Channel: service.ChannelEmail, Kind: "identifier.link", Recipient: "Marie@Example.ORG",
			Body: []byte("x"), CreatedAt: t0, MessageID: "<m1@vote.example>"},
		service.Message{VoterID: voter, Channel: service.ChannelEmail, Kind: "identifier.changed", Recipient: "b@other.example",
			Body: []byte("x"), CreatedAt: t0},
		service.Message{VoterID: voter, Channel: service.ChannelSMS, Kind: "password.sms", Recipient: "+33612345678",
			Body: []byte("x"), CreatedAt: t0},
		service.Message{VoterID: voter, Channel: service.ChannelEmail, Kind: "other", Recipient: "c@example.org",
			Body: []byte("x"), CreatedAt: t0},
	)
	for i, gw := range []string{"", "", "primary", ""} {
		if err := st.MarkSent(context.Background(), ids[i], t0, gw, map[bool]string{true: "gw-1"}[gw != ""], false); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// setDelivery runs SetDelivery in a transaction of its own.
func setDelivery(t *testing.T, st Store, id int64, ch service.Channel, state, status string, at time.Time) bool {
	t.Helper()
	var ok bool
	update(t, st, func(tx service.Tx) (err error) {
		ok, err = tx.SetDelivery(id, ch, state, status, at)
		return err
	})
	return ok
}

// testDeliveries: service.Deliveries. A state is set only on a sent
// message of its channel, once final; a delay may be followed by a final
// state; the gateway's id finds its SMS only through that gateway.
func testDeliveries(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	pending := enqueue(t, st, service.Message{Channel: service.ChannelEmail, Kind: "other", Recipient: "d@example.org",
		Body: []byte("x"), CreatedAt: t0})
	if setDelivery(t, st, pending[0], service.ChannelEmail, "refused", "x", t0) {
		t.Error("a state set on a message not sent")
	}
	ids := sentFour(t, st, voter)
	at := t0.Add(time.Minute)
	for _, step := range []struct {
		id     int64
		ch     service.Channel
		state  string
		status string
		want   bool
	}{
		{ids[0], service.ChannelSMS, "refused", "x", false}, // another channel
		{ids[0], service.ChannelEmail, "delayed", "450 4.2.0 busy", true},
		{ids[0], service.ChannelEmail, "delayed", "450 4.2.0 again", false},
		{ids[0], service.ChannelEmail, "refused", "550 5.1.1 User unknown", true},
		{ids[0], service.ChannelEmail, "delivered", "", false}, // final stays
		{ids[0], service.ChannelEmail, "refused", "550 5.7.1 other", false},
		{ids[2], service.ChannelSMS, "delivered", "", true},
		{ids[1], service.ChannelEmail, "expired", "4.4.7 expired", true},
	} {
		if got := setDelivery(t, st, step.id, step.ch, step.state, step.status, at); got != step.want {
			t.Errorf("SetDelivery(%d, %s, %s) = %v, want %v", step.id, step.ch, step.state, got, step.want)
		}
	}
	view(t, st, func(tx service.Tx) error {
		ms, err := tx.Messages(service.MessageFilter{ID: ids[0]})
		if err != nil || len(ms) != 1 || ms[0].MessageID != "<m1@vote.example>" || ms[0].Delivery != "refused" ||
			ms[0].DeliveryStatus != "550 5.1.1 User unknown" || !ms[0].DeliveryAt.Equal(at) || ms[0].Recipient != "Marie@Example.ORG" {
			t.Errorf("Messages of ID %d = %+v, %v", ids[0], ms, err)
		}
		for _, f := range []service.MessageFilter{{Gateway: "primary", GatewayID: "gw-1"}, {Gateway: "fallback", GatewayID: "gw-1"},
			{Gateway: "primary"}} {
			ms, err := tx.Messages(f)
			if want := f == (service.MessageFilter{Gateway: "primary", GatewayID: "gw-1"}); err != nil || want != (len(ms) == 1) ||
				want && (ms[0].ID != ids[2] || ms[0].Delivery != "delivered" || ms[0].GatewayID != "gw-1") {
				t.Errorf("Messages(%+v) = %+v, %v; want the SMS only through its gateway and id", f, ms, err)
			}
		}
		return nil
	})
}

// testDeliveryCounts: the messages by stage, and the e-mail domains with
// how many were relayed and refused.
func testDeliveryCounts(t *testing.T, st Store) {
	ids := sentFour(t, st, addVoter(t, st, "123456"))
	setDelivery(t, st, ids[0], service.ChannelEmail, "refused", "550", t0)
	setDelivery(t, st, ids[1], service.ChannelEmail, "expired", "4.4.7", t0)
	setDelivery(t, st, ids[2], service.ChannelSMS, "delivered", "", t0)
	enqueue(t, st, service.Message{Channel: service.ChannelEmail, Kind: "other", Recipient: "d@example.org", Body: []byte("x"), CreatedAt: t0})
	view(t, st, func(tx service.Tx) error {
		counts, err := tx.StageCounts()
		if err != nil {
			return err
		}
		want := map[string]int{"queued": 1, "relayed": 1, "refused": 1, "delivered": 1, "expired": 1}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("StageCounts = %v, want %v", counts, want)
		}
		ds, err := tx.DomainDeliveries(portal.MaxDomains)
		wantDs := []portal.DomainDelivery{{Domain: "example.org", Relayed: 2, Refused: 1}, {Domain: "other.example", Relayed: 1}}
		if fmt.Sprint(ds) != fmt.Sprint(wantDs) {
			t.Errorf("DomainDeliveries = %v, want %v", ds, wantDs)
		}
		if ds, _ := tx.DomainDeliveries(1); len(ds) != 1 {
			t.Errorf("DomainDeliveries(1) = %v", ds)
		}
		return err
	})
}

// testDeliverySetOnce: of the same report received by many instances at
// once, one sets the state.
func testDeliverySetOnce(t *testing.T, st Store) {
	ids := enqueue(t, st, service.Message{Channel: service.ChannelEmail, Kind: "other", Recipient: "a@example.org", Body: []byte("x"), CreatedAt: t0})
	if err := st.MarkSent(context.Background(), ids[0], t0, "", "", false); err != nil {
		t.Fatal(err)
	}
	won := concurrently(t, 16, func() (bool, error) {
		var ok bool
		err := st.Update(context.Background(), func(tx service.Tx) (err error) {
			ok, err = tx.SetDelivery(ids[0], service.ChannelEmail, "refused", "550 5.1.1", t0)
			return err
		})
		return ok, err
	})
	if won != 1 {
		t.Fatalf("%d of 16 concurrent reports set the state, want 1", won)
	}
}

// testFallbackClaimedOnce: outbox.Queue.ClaimFallback. Of many workers
// at once, one gets each SMS the primary gateway did not deliver; one it
// delivered, one already moved, one still in time, an e-mail, one
// without its body, none.
func testFallbackClaimedOnce(t *testing.T, st Store) {
	ctx := context.Background()
	sms := func(to string) service.Message {
		return service.Message{Channel: service.ChannelSMS, Kind: "password.sms", Recipient: to, Body: []byte("x"), CreatedAt: t0}
	}
	ids := enqueue(t, st, sms("+1"), sms("+2"), sms("+3"), sms("+4"), sms("+5"),
		service.Message{Channel: service.ChannelEmail, Kind: "other", Recipient: "a@example.org", Body: []byte("x"), CreatedAt: t0})
	for i, id := range ids {
		at, keep := t0, i != 4
		if i == 3 {
			at = t0.Add(time.Hour) // still in time
		}
		if err := st.MarkSent(ctx, id, at, "primary", fmt.Sprintf("p-%d", i), keep); err != nil {
			t.Fatal(err)
		}
	}
	update(t, st, func(tx service.Tx) error {
		if _, err := tx.SetDelivery(ids[0], service.ChannelSMS, "delivered", "", t0); err != nil {
			return err
		}
		_, err := tx.SetDelivery(ids[1], service.ChannelSMS, "refused", "error 34", t0)
		return err
	})
	var mu sync.Mutex
	got := map[int64]int{}
	concurrently(t, 8, func() (bool, error) {
		ms, err := st.ClaimFallback(ctx, t0.Add(time.Minute), 10)
		mu.Lock()
		for _, m := range ms {
			got[m.ID]++
		}
		mu.Unlock()
		return len(ms) > 0, err
	})
	want := map[int64]int{ids[1]: 1, ids[2]: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claimed %v, want %v (the refused one and the unconfirmed one, once each)", got, want)
	}
	if ms, err := st.ClaimFallback(ctx, t0.Add(time.Minute), 10); err != nil || len(ms) != 0 {
		t.Fatalf("claimed again: %v, %v", ms, err)
	}
	// A claim whose first commit is refused runs again: each message once.
	cf, ok := st.(CommitFailer)
	if !ok {
		t.Fatal("the store under test does not implement storetest.CommitFailer")
	}
	id := enqueue(t, st, sms("+6"))[0]
	if err := st.MarkSent(ctx, id, t0, "primary", "p-6", true); err != nil {
		t.Fatal(err)
	}
	cf.FailCommits(1)
	if ms, err := st.ClaimFallback(ctx, t0.Add(time.Minute), 10); err != nil || len(ms) != 1 {
		t.Fatalf("a claim run again: %d messages, %v; want 1", len(ms), err)
	}
}
