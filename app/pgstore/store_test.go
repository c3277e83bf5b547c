package pgstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"consulvote/app/service"
	"consulvote/app/storetest"
	"consulvote/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the suite every store passes, on a real
// PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, pgtest.Database(t)) })
}

// TestOpenTogether: instances that start at once on a new database apply
// each migration once (they queue on an advisory lock), and all open.
func TestOpenTogether(t *testing.T) {
	url := pgtest.Database(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	db := open(t, url)
	var rows int
	if err := db.pool.QueryRow(context.Background(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(migrations) {
		t.Fatalf("schema_migrations: %d rows, %v; want %d", rows, err, len(migrations))
	}
	if v, err := db.SchemaVersion(context.Background()); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v", v, err)
	}
}

// TestOpenRefusesNewerSchema: a database migrated by a newer program is
// not opened by an older one.
func TestOpenRefusesNewerSchema(t *testing.T) {
	url := pgtest.Database(t)
	db := open(t, url)
	if _, err := db.pool.Exec(context.Background(), `INSERT INTO schema_migrations (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), url); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

// TestCheckKey: the first key's fingerprint is kept; another is refused.
func TestCheckKey(t *testing.T) {
	db := open(t, pgtest.Database(t))
	ctx := context.Background()
	if err := db.CheckKey(ctx, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckKey(ctx, []byte("first")); err != nil {
		t.Fatalf("the same key again: %v", err)
	}
	if err := db.CheckKey(ctx, []byte("other")); !errors.Is(err, ErrOtherKey) {
		t.Fatalf("another key: %v, want ErrOtherKey", err)
	}
}

// TestBadURL: a URL that does not parse is refused without showing its
// password.
func TestBadURL(t *testing.T) {
	_, err := Open(context.Background(), "postgres://vote:s3cret@db.example:notaport/vote")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open of a bad URL: %v", err)
	}
}

// Tamper implements storetest.Tamperer.
func (db *DB) Tamper(ctx context.Context, query string) error {
	_, err := db.pool.Exec(ctx, query)
	return err
}

// TestCheckpointLockHeld: a session that holds the checkpoints' advisory
// lock made every checkpoint, and the stop's, wait for ever; now each
// fails after Config.CheckpointWait, and the next one, the lock let go,
// signs.
func TestCheckpointLockHeld(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	db := open(t, url)
	cfg := service.DefaultConfig()
	cfg.Secret = bytes.Repeat([]byte("k"), 32)
	cfg.PublicURL = "https://vote.example"
	cfg.CheckpointWait = 300 * time.Millisecond
	svc, err := service.New(db, cfg, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	intruder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close(ctx)
	if _, err := intruder.Exec(ctx, `SELECT pg_advisory_lock($1, 0)`, lockAudit); err != nil {
		t.Fatal(err)
	}
	svc.Login(ctx, "no-such-identifier", "x")
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{{"checkpoint", svc.CheckpointAudit}, {"stop", svc.CheckpointAudit}} {
		done := make(chan error, 1)
		go func() { done <- step.run(ctx) }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s signed under a lock another session holds", step.name)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s still waiting after 20 s for the lock another session holds", step.name)
		}
	}
	if _, err := intruder.Exec(ctx, `SELECT pg_advisory_unlock($1, 0)`, lockAudit); err != nil {
		t.Fatal(err)
	}
	if err := svc.CheckpointAudit(ctx); err != nil {
		t.Fatalf("a checkpoint once the lock is let go: %v", err)
	}
	if problems, _, err := svc.VerifyAuditLog(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("verify: %v, %v", problems, err)
	}
}
