package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"consulvote/app/service"
	"consulvote/app/storetest"
	"consulvote/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dialects names a new, empty database of each kind: a SQLite file, and a
// database of the PostgreSQL cluster the tests start.
var dialects = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"SQLite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "db") }},
	{"PostgreSQL", func(t *testing.T) string { return pgtest.Database(t) }},
}

// forEach runs test on a new database of each kind.
func forEach(t *testing.T, test func(t *testing.T, dsn string)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { test(t, d.dsn(t)) })
	}
}

// TestConformance runs the suite every store passes, on both databases.
func TestConformance(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, d.dsn(t)) })
		})
	}
}

// Tamper implements storetest.Tamperer.
func (db *DB) Tamper(ctx context.Context, query string) error {
	_, err := db.write.ExecContext(ctx, query)
	return err
}

// FailCommits implements storetest.CommitFailer.
func (db *DB) FailCommits(n int) { db.failCommits.Store(int32(n)) }

func TestOpenPragmasAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portal db.sqlite") // a space, as in user folders
	db := open(t, path)

	var mode string
	var fk, timeout int
	if err := db.write.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := db.read.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if err := db.write.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout < 1000 {
		t.Errorf("busy_timeout = %d, %v", timeout, err)
	}
	var id int64
	err := db.Update(ctx, func(tx service.Tx) error {
		var err error
		id, err = tx.InsertVoter(service.Voter{NUMIC: "00012345", Email: "a@example.org", Lang: "fr",
			IdentifierHash: []byte{1, 2, 3}, PasswordHash: "$argon2id$x"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, path)
	err = db.View(ctx, func(tx service.Tx) error {
		v, err := tx.VoterByNUMIC("00012345")
		if err == nil && (v.ID != id || v.Email != "a@example.org" || !bytes.Equal(v.IdentifierHash, []byte{1, 2, 3})) {
			t.Errorf("voter after reopen: %+v", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrations: an empty database and one at the newest version both
// open, each migration applied once; one migrated by a newer program is
// refused.
func TestMigrations(t *testing.T) {
	forEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		db.Close()
		db = open(t, dsn) // at the newest version
		var rows int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != db.LatestSchema() {
			t.Fatalf("schema_migrations: %d rows, %v; want %d", rows, err, db.LatestSchema())
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v != db.LatestSchema() {
			t.Fatalf("schema version %d, %v", v, err)
		}
		if _, err := db.write.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (999, 0)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Open of a newer schema: %v", err)
		}
	})
}

// TestOpenTogether: PostgreSQL instances that start at once on a new
// database apply each migration once (they queue on an advisory lock),
// and all open.
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
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(path, []byte("this is not a database, it is plain text, long enough to be read as a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("Open accepted a text file")
	}
}

// TestCheckKey: the first key's fingerprint is kept; another is refused.
func TestCheckKey(t *testing.T) {
	forEach(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
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
	})
}

// TestBadURL: a URL that does not parse is refused without showing its
// password.
func TestBadURL(t *testing.T) {
	for _, url := range []string{"postgres://vote:s3cret@db.example:notaport/vote", "postgres://vote:s3cret@db.example/vote?pool_max_conns=x"} {
		_, err := Open(context.Background(), url)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open of a bad URL: %v", err)
		}
	}
}

func TestRateEventsForgetOld(t *testing.T) {
	forEach(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		t0 := time.Unix(10_000, 0)
		db.Update(ctx, func(tx service.Tx) error {
			for i := range 3 {
				tx.AddRateEvent([]byte("k"), t0.Add(time.Duration(i)*time.Minute))
			}
			tx.AddRateEvent([]byte("other"), t0)
			ts, err := tx.RateEvents(t0, []byte("k")) // forgets the one at t0
			if err != nil || len(ts[0]) != 2 || !ts[0][0].Equal(t0.Add(time.Minute)) {
				t.Errorf("RateEvents = %v, %v", ts, err)
			}
			return tx.AddRateEvent([]byte("k"), t0.Add(3*time.Minute)) // writes back the window's
		})
		// One row per key, with the events of its window: k's three, other's one.
		var keys, bytes int
		db.read.QueryRowContext(ctx, `SELECT COUNT(*), SUM(LENGTH(times)) FROM rate_limits`).Scan(&keys, &bytes)
		if keys != 2 || bytes != 4*8 {
			t.Errorf("%d rate keys with %d bytes of times kept, want 2 keys, 4 times", keys, bytes)
		}
	})
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
	svc.Portal.Login(ctx, "no-such-identifier", "x")
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{{"checkpoint", svc.Operator.CheckpointAudit}, {"stop", svc.Operator.CheckpointAudit}} {
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
	if err := svc.Operator.CheckpointAudit(ctx); err != nil {
		t.Fatalf("stop once the lock is let go: %v", err)
	}
	if problems, _, err := svc.Operator.VerifyAuditLog(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("verify: %v, %v", problems, err)
	}
}
