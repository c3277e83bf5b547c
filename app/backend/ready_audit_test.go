package backend

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/service"
)

// syncBuffer is a log destination the checkpoints' goroutine and the test
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestReadyCheckpointsFailing: checkpoints a database writer makes fail
// (here a trigger refuses them) leave rows unsigned; after three periods
// the back end says so in Ready, with an ERROR line each time, and is
// ready again once a checkpoint succeeds.
func TestReadyCheckpointsFailing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	var logs syncBuffer
	ctx := context.Background()
	b, err := Open(ctx, Config{Database: path, Create: true, Demo: true, CheckpointEvery: 20 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)") // the back end writes meanwhile
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	b.Start()
	if err := b.Ready(ctx); err != nil {
		t.Fatalf("unready at start: %v", err)
	}
	if _, err := raw.Exec(`CREATE TRIGGER hold BEFORE INSERT ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'held'); END`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "checkpoints failing for 3 periods should make the back end unready", func() bool {
		b.Service.Portal.Login(ctx, service.DemoRoll[0].Identifier, "wrong password")
		err := b.Ready(ctx)
		return err != nil && strings.Contains(err.Error(), "audit: checkpoints failing since")
	})
	if n := strings.Count(logs.String(), `"level":"ERROR","msg":"audit checkpoint not signed"`); n < 3 {
		t.Errorf("%d ERROR lines for the failing checkpoints, want one each (3 or more):\n%s", n, logs.String())
	}
	if _, err := raw.Exec(`DROP TRIGGER hold`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready again once a checkpoint succeeds", func() bool { return b.Ready(ctx) == nil })
}
