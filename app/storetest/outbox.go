package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/service"
)

func enqueue(t *testing.T, st Store, ms ...service.Message) []int64 {
	t.Helper()
	var ids []int64
	update(t, st, func(tx service.Tx) error {
		for _, m := range ms {
			id, err := tx.Enqueue(m)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids
}

// threeQueued queues two messages of voter and one of no voter, a
// second apart, and returns their ids.
func threeQueued(t *testing.T, st Store, voter int64) []int64 {
	t.Helper()
	return enqueue(t, st,
		service.Message{VoterID: voter, Channel: service.ChannelEmail, Kind: "identifier.link", Recipient: "a@example.org",
			Subject: "Lien", Body: []byte("sealed\x00body"), CreatedAt: t0},
		service.Message{VoterID: voter, Channel: service.ChannelSMS, Kind: "password.sms", Recipient: "+33612345678",
			Body: []byte("sms"), CreatedAt: t0.Add(time.Second)},
		service.Message{Channel: service.ChannelEmail, Kind: "other", Recipient: "b@example.org", Body: []byte("x"),
			CreatedAt: t0.Add(2 * time.Second)},
	)
}

// messageIDs returns the ids of the messages f selects.
func messageIDs(t *testing.T, tx service.Tx, f service.MessageFilter) []int64 {
	t.Helper()
	ms, err := tx.Messages(f)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

// testOutboxStates: messages come back as queued, newest first, selected
// by id, voter, state and number.
func testOutboxStates(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	ids := threeQueued(t, st, voter)
	view(t, st, func(tx service.Tx) error {
		ms, err := tx.Messages(service.MessageFilter{})
		if err != nil || len(ms) != 3 || ms[0].ID != ids[2] || ms[2].ID != ids[0] {
			t.Fatalf("Messages = %+v, %v; want 3, newest first", ms, err)
		}
		m := ms[2]
		if m.VoterID != voter || m.Channel != service.ChannelEmail || m.Kind != "identifier.link" || m.Recipient != "a@example.org" ||
			m.Subject != "Lien" || !bytes.Equal(m.Body, []byte("sealed\x00body")) || m.State != "pending" ||
			!m.CreatedAt.Equal(t0) || m.Attempts != 0 || m.LastError != "" {
			t.Errorf("stored message: %+v", m)
		}
		if ms[0].VoterID != 0 {
			t.Errorf("a message about no voter has voter %d", ms[0].VoterID)
		}
		for _, c := range []struct {
			f    service.MessageFilter
			want []int64
		}{
			{service.MessageFilter{VoterID: voter}, []int64{ids[1], ids[0]}},
			{service.MessageFilter{Limit: 1}, []int64{ids[2]}},
			{service.MessageFilter{ID: ids[1]}, []int64{ids[1]}},
			{service.MessageFilter{ID: ids[1], VoterID: voter + 1}, nil},
			{service.MessageFilter{State: "pending", VoterID: voter, Limit: 1}, []int64{ids[1]}},
			{service.MessageFilter{State: "failed"}, nil},
		} {
			if got := messageIDs(t, tx, c.f); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Messages(%+v) = %v, want %v", c.f, got, c.want)
			}
		}
		return nil
	})
}

// testOutboxDepth: the depth leaves the sent messages out and dates the
// oldest of each channel and state; a failed message, and only one, is
// queued again.
func testOutboxDepth(t *testing.T, st Store) {
	ids := threeQueued(t, st, addVoter(t, st, "123456"))
	ctx := context.Background()
	if err := st.MarkSent(ctx, ids[0], t0, "", "", false); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkAttempt(ctx, ids[1], "gateway down", t0, true); err != nil {
		t.Fatal(err)
	}
	update(t, st, func(tx service.Tx) error {
		depth, err := tx.OutboxDepth()
		want := []service.OutboxDepth{
			{Channel: service.ChannelEmail, State: "pending", Count: 1, Oldest: t0.Add(2 * time.Second)},
			{Channel: service.ChannelSMS, State: "failed", Count: 1, Oldest: t0.Add(time.Second)},
		}
		if err != nil || len(depth) != len(want) {
			t.Errorf("OutboxDepth = %+v, %v; want %+v", depth, err, want)
		} else {
			for i := range want {
				if d := depth[i]; d.Channel != want[i].Channel || d.State != want[i].State || d.Count != want[i].Count || !d.Oldest.Equal(want[i].Oldest) {
					t.Errorf("OutboxDepth[%d] = %+v, want %+v", i, d, want[i])
				}
			}
		}
		failed, err := tx.Messages(service.MessageFilter{State: "failed"})
		if err != nil || len(failed) != 1 || failed[0].ID != ids[1] || failed[0].LastError != "gateway down" || failed[0].Attempts != 1 {
			t.Errorf("the failed messages = %+v, %v", failed, err)
		}
		if ok, err := tx.Requeue(ids[2], t0); ok || err != nil {
			t.Errorf("Requeue of a pending message = %v, %v; want false", ok, err)
		}
		if ok, err := tx.Requeue(ids[1], t0.Add(time.Hour)); !ok || err != nil {
			t.Errorf("Requeue of a failed message = %v, %v; want true", ok, err)
		}
		if got := messageIDs(t, tx, service.MessageFilter{State: "pending"}); fmt.Sprint(got) != fmt.Sprint([]int64{ids[2], ids[1]}) {
			t.Errorf("pending after Requeue: %v", got)
		}
		return nil
	})
}

// queueEmail is an e-mail queued at at.
func queueEmail(at time.Time) service.Message {
	return service.Message{Channel: service.ChannelEmail, Kind: "k", Recipient: "a@example.org", Body: []byte("b"), CreatedAt: at}
}

var emails = []service.Channel{service.ChannelEmail}

// claimer returns a ClaimDue of a minute's lease that fails the test on
// error.
func claimer(t *testing.T, st Store) func(at time.Time, channels []service.Channel, limit int) []service.Message {
	return func(at time.Time, channels []service.Channel, limit int) []service.Message {
		t.Helper()
		ms, err := st.ClaimDue(context.Background(), at, time.Minute, channels, limit)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
}

// testQueue: outbox.Queue's claims, oldest due first, of the channels
// asked, within the limit, once within the lease; a failed attempt moves
// the next try, a sent message is never due again and its body goes.
func testQueue(t *testing.T, st Store) {
	ctx, claim := context.Background(), claimer(t, st)
	sms := service.Message{Channel: service.ChannelSMS, Kind: "k", Recipient: "+33612345678", Body: []byte("b"), CreatedAt: t0}
	ids := enqueue(t, st, queueEmail(t0.Add(time.Second)), queueEmail(t0), sms, queueEmail(t0.Add(time.Hour)))

	due := claim(t0.Add(time.Minute), emails, 10)
	if len(due) != 2 || due[0].ID != ids[1] || due[1].ID != ids[0] {
		t.Fatalf("ClaimDue = %+v; want the two due e-mails, the oldest due first", due)
	}
	if due[0].Recipient != "a@example.org" || !bytes.Equal(due[0].Body, []byte("b")) || due[0].State != "pending" {
		t.Errorf("claimed message %+v", due[0])
	}
	if again := claim(t0.Add(time.Minute), emails, 10); len(again) != 0 {
		t.Errorf("claimed twice within the lease: %+v", again)
	}
	if none := claim(t0.Add(time.Minute), nil, 10); len(none) != 0 {
		t.Errorf("ClaimDue of no channel = %d", len(none))
	}
	if one := claim(t0.Add(time.Minute), []service.Channel{service.ChannelEmail, service.ChannelSMS}, 1); len(one) != 1 || one[0].ID != ids[2] {
		t.Errorf("ClaimDue with limit 1 = %+v; want the SMS, the one left", one)
	}
	// A failed attempt moves the message's next try; a sent one is gone.
	if err := st.MarkAttempt(ctx, ids[1], "relay down", t0.Add(10*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSent(ctx, ids[0], t0.Add(time.Minute), "", "", false); err != nil {
		t.Fatal(err)
	}
	if due := claim(t0.Add(5*time.Minute), emails, 10); len(due) != 0 {
		t.Errorf("due after the lease, though sent or failed until later: %+v", due)
	}
	view(t, st, func(tx service.Tx) error {
		ms, err := tx.Messages(service.MessageFilter{ID: ids[0]})
		if len(ms) != 1 || ms[0].State != "sent" || len(ms[0].Body) != 0 || ms[0].Recipient == "" || ms[0].Attempts != 1 {
			t.Errorf("sent message %+v: want state sent, its body scrubbed, its recipient kept", ms)
		}
		return err
	})
	due = claim(t0.Add(10*time.Minute), emails, 10)
	if len(due) != 1 || due[0].ID != ids[1] || due[0].Attempts != 1 || !strings.Contains(due[0].LastError, "relay down") {
		t.Errorf("due at the next try: %+v", due)
	}
}

// testQueueLeases: a claim nobody marks (its worker died) runs out: the
// message is due again after the lease, not before; a failed message is
// never due again; a claim given back (a worker stopping before it sent)
// is due at once, and a failed or sent message given back stays as it
// is.
func testQueueLeases(t *testing.T, st Store) {
	ctx, claim := context.Background(), claimer(t, st)
	ids := enqueue(t, st, queueEmail(t0), queueEmail(t0), queueEmail(t0.Add(time.Hour)))
	if due := claim(t0.Add(time.Minute), emails, 10); len(due) != 2 {
		t.Fatalf("ClaimDue = %+v; want the two due e-mails", due)
	}
	if err := st.MarkSent(ctx, ids[1], t0.Add(time.Minute), "", "", false); err != nil {
		t.Fatal(err)
	}
	if due := claim(t0.Add(time.Minute+59*time.Second), emails, 10); len(due) != 0 {
		t.Errorf("claimed again before the lease ran out: %+v", due)
	}
	if due := claim(t0.Add(2*time.Minute), emails, 10); len(due) != 1 || due[0].ID != ids[0] {
		t.Errorf("not due again when the lease ran out, or a sent one is: %+v", due)
	}
	if err := st.MarkAttempt(ctx, ids[0], "relay down", t0.Add(20*time.Minute), true); err != nil {
		t.Fatal(err)
	}
	if due := claim(t0.Add(24*time.Hour), emails, 10); len(due) != 1 || due[0].ID != ids[2] {
		t.Errorf("a failed message is due again, or the later one is not: %+v", due)
	}
	if err := st.ReleaseClaims(ctx, []int64{ids[2], ids[0], ids[1]}, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if due := claim(t0.Add(24*time.Hour), emails, 10); len(due) != 1 || due[0].ID != ids[2] {
		t.Errorf("after ReleaseClaims: %+v; want the released pending message, due at once, and nothing else", due)
	}
	if err := st.ReleaseClaims(ctx, nil, t0); err != nil {
		t.Errorf("ReleaseClaims of nothing: %v", err)
	}
}

// testClaimedOnce: workers claiming at once, as on several server
// instances, never get the same message twice.
func testClaimedOnce(t *testing.T, st Store) {
	const n = 120
	ms := make([]service.Message, n)
	for i := range ms {
		ms[i] = service.Message{Channel: service.ChannelEmail, Kind: "k", Recipient: "a@example.org", Body: []byte("b"),
			CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
	}
	enqueue(t, st, ms...)
	var mu sync.Mutex
	got := map[int64]int{}
	concurrently(t, 8, func() (bool, error) {
		for {
			due, err := st.ClaimDue(context.Background(), t0.Add(time.Minute), time.Hour, []service.Channel{service.ChannelEmail}, 7)
			if err != nil || len(due) == 0 {
				return false, err
			}
			mu.Lock()
			for _, m := range due {
				got[m.ID]++
			}
			mu.Unlock()
		}
	})
	if len(got) != n {
		t.Errorf("%d of %d messages claimed", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("message %d claimed %d times", id, k)
		}
	}
}
