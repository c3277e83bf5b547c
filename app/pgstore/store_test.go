package pgstore

import (
	"context"
	"errors"
	"strings"
	"testing"

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
