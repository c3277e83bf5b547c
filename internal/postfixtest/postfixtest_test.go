package postfixtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestRelayDelivers: the private relay takes a message on its loopback
// port and delivers it to the route of its domain.
func TestRelayDelivers(t *testing.T) {
	sink := StartSink(t, nil)
	start := time.Now()
	r := Start(t, Config{Routes: map[string]string{"example.org": sink.Addr}})
	t.Logf("started in %v", time.Since(start))
	c, err := smtp.Dial(r.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("a@relay.test", []string{"b@example.org"}, strings.NewReader("Subject: x\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(sink.Messages()) == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if got := sink.Messages(); len(got) != 1 || !strings.Contains(string(got[0]), "hello") {
		t.Fatalf("sink got %q\n%s", got, r.Log())
	}
	start = time.Now()
	r.stop()
	t.Logf("stopped in %v", time.Since(start))
}
