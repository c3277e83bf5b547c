package backend

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"consulvote/app/service"
	"consulvote/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestOpenPostgres: a postgres:// URL opens the PostgreSQL store (never a
// file of that name), with the key file it is given; the database then
// refuses any other key, and a missing key file is not made unasked.
func TestOpenPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	dir := t.TempDir()
	t.Chdir(dir)
	key := filepath.Join(dir, "keys", "portal.key")

	b, err := Open(ctx, Config{Database: url, KeyFile: key, Create: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Portal.Login(ctx, service.DemoRoll[0].Identifier, service.DemoRoll[0].Password); err != nil {
		t.Fatalf("the demonstration roll is not there: %v", err)
	}
	b.Close()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != "keys" {
		t.Fatalf("Open of a URL made files in the working folder: %v", entries)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", st, err)
	}

	// Another instance with the same key file sees the same voters.
	b, err = Open(ctx, Config{Database: url, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.Portal.Login(ctx, service.DemoRoll[1].Identifier, service.DemoRoll[1].Password); err != nil {
		t.Fatalf("login on the second opening: %v", err)
	}
	b.Close()

	var ce *ConfigError
	other := filepath.Join(dir, "other.key")
	_, err = Open(ctx, Config{Database: url, KeyFile: other, Create: true})
	if !errors.As(err, &ce) || ce.Setting != "key-file" {
		t.Fatalf("Open with another key = %v, want a --key-file error", err)
	}
	_, err = Open(ctx, Config{Database: url, KeyFile: filepath.Join(dir, "missing.key")})
	if !errors.As(err, &ce) || ce.Setting != "key-file" {
		t.Fatalf("Open with a missing key file = %v, want a --key-file error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.key")); err == nil {
		t.Fatal("a key file was made without Create")
	}
}

// TestOpenPostgresUnreachable: a server that is not there is a --db
// error that names no password.
func TestOpenPostgresUnreachable(t *testing.T) {
	_, err := Open(context.Background(), Config{Database: "postgres://vote:s3cret@127.0.0.1:1/vote?connect_timeout=2",
		KeyFile: filepath.Join(t.TempDir(), "k"), Create: true})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Setting != "db" {
		t.Fatalf("Open of an unreachable database = %v, want a --db error", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestReadyWhilePostgresRefuses: /readyz's "database unreachable" on a real
// PostgreSQL: the database stops taking connections and loses the ones it
// had (what a failover or a restart does to an instance), so Ready fails
// saying so; once it takes connections again, Ready recovers by itself.
func TestReadyWhilePostgresRefuses(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.Database(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := pgx.Identifier{strings.TrimPrefix(u.Path, "/")}.Sanitize()
	b, err := Open(ctx, Config{Database: dbURL, KeyFile: filepath.Join(t.TempDir(), "k"), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ready := func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return b.Ready(ctx)
	}
	if err := ready(); err != nil {
		t.Fatalf("Ready on a fresh database: %v", err)
	}

	admin, err := pgx.Connect(ctx, pgtest.Admin(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + strings.Trim(name, `"`) + "'")
	err = ready()
	if err == nil || !strings.Contains(err.Error(), "database: unreachable") {
		t.Fatalf("Ready while the database refuses connections = %v, want database: unreachable", err)
	}

	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	if err := ready(); err != nil {
		t.Fatalf("Ready once the database takes connections again: %v", err)
	}
}
