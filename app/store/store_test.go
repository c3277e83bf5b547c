package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"consulvote/app/service"
	"consulvote/app/storetest"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the suite every store passes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, filepath.Join(t.TempDir(), "db")) })
}

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
	if v, err := db.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
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

	// Reopening applies no migration twice and keeps the data.
	db = open(t, path)
	if v, err := db.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("after reopen: schema version %d, %v", v, err)
	}
	var rows int
	db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows)
	if rows != len(migrations) {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, len(migrations))
	}
	err = db.View(ctx, func(tx service.Tx) error {
		v, err := tx.VoterByNUMIC("00012345")
		if err != nil {
			return err
		}
		if v.ID != id || v.Email != "a@example.org" || !bytes.Equal(v.IdentifierHash, []byte{1, 2, 3}) {
			t.Errorf("voter after reopen: %+v", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db := open(t, path)
	if _, err := db.write.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (999, 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
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

func TestRateEventsForgetOld(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "db"))
	t0 := time.Unix(10_000, 0)
	db.Update(ctx, func(tx service.Tx) error {
		for i := range 3 {
			tx.AddRateEvent([]byte("k"), t0.Add(time.Duration(i)*time.Minute))
		}
		tx.AddRateEvent([]byte("other"), t0)
		ts, err := tx.RateEvents([]byte("k"), t0) // forgets the one at t0
		if err != nil || len(ts) != 2 || !ts[0].Equal(t0.Add(time.Minute)) {
			t.Errorf("RateEvents = %v, %v", ts, err)
		}
		return nil
	})
	var n int
	db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_events`).Scan(&n)
	if n != 3 {
		t.Errorf("%d rate events kept, want 3", n)
	}
}

// Tamper implements storetest.Tamperer.
func (db *DB) Tamper(ctx context.Context, query string) error {
	_, err := db.write.ExecContext(ctx, query)
	return err
}
