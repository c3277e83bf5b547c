package pgstore

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
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

// TestAuditUpgradeFromSingleChain: a database whose audit log is the
// older versions' single chain (rows numbered by the chain, before
// migration 7) migrates, its chain moves into a chain of this version
// once the service verified it, and new rows are numbered after the old.
func TestAuditUpgradeFromSingleChain(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const before = 5 // the migrations of the single chain's last version
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:before] {
		if _, err := conn.Exec(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-time.Hour)
	var prev []byte
	for id := int64(1); id <= 3; id++ {
		e := service.AuditEntry{At: at.Add(time.Duration(id)), Actor: "system", Action: "old", Detail: fmt.Sprint(id)}
		h := service.LegacyAuditHash(prev, id, e)
		if _, err := conn.Exec(ctx, `INSERT INTO audit (id, at, actor, action, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, e.At.UnixNano(), e.Actor, e.Action, e.Detail, prev, h); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	// Its last row signed, as the older server did when it stopped.
	mac := hmac.New(sha256.New, bytes.Repeat([]byte("k"), 32))
	mac.Write([]byte(fmt.Sprintf("audit-checkpoint\x00%d:%x", 3, prev)))
	if _, err := conn.Exec(ctx, `INSERT INTO audit_checkpoints (id, audit_id, hash, mac, at) VALUES (1, 3, $1, $2, 0)`, prev, mac.Sum(nil)); err != nil {
		t.Fatal(err)
	}

	db := open(t, url)
	db.View(ctx, func(tx service.Tx) error {
		if rows, last, err := tx.AuditUpgrade(); rows != 3 || last != 3 || err != nil {
			t.Errorf("AuditUpgrade = %d, %d, %v; want the 3 old rows, the last 3", rows, last, err)
		}
		return nil
	})
	cfg := service.DefaultConfig()
	cfg.Secret = bytes.Repeat([]byte("k"), 32)
	cfg.PublicURL = "https://vote.example"
	svc, err := service.New(db, cfg, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.UpgradeAuditChain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, "no-such-identifier", "x"); err == nil {
		t.Fatal("a login with an unknown identifier")
	}
	if err := svc.FinishAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if problems, n, err := svc.VerifyAuditLog(ctx); err != nil || len(problems) != 0 || n != 5 {
		t.Fatalf("verify after the move: %d rows, %v, %v", n, problems, err)
	}
	var ids []int64
	var chains int
	db.View(ctx, func(tx service.Tx) error {
		seen := map[int64]bool{}
		return tx.AuditRows(func(r service.AuditRow) error {
			ids = append(ids, r.ID)
			if !seen[r.Chain] {
				seen[r.Chain] = true
				chains++
			}
			return nil
		})
	})
	if chains != 2 || len(ids) != 5 || slices.Max(ids) != 5 {
		t.Errorf("rows %v in %d chains; want the 3 moved and the move's row in one chain, the login's numbered 5 in another", ids, chains)
	}
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
	}{{"checkpoint", svc.CheckpointAudit}, {"stop", svc.FinishAudit}} {
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
	if err := svc.FinishAudit(ctx); err != nil {
		t.Fatalf("stop once the lock is let go: %v", err)
	}
	if problems, _, err := svc.VerifyAuditLog(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("verify: %v, %v", problems, err)
	}
}
