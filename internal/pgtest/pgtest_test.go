package pgtest

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestDatabasesAreApartOnLoopback: each Database is new and empty, and the
// server listens on 127.0.0.1 only, as the postgres user when run as root.
func TestDatabasesAreApartOnLoopback(t *testing.T) {
	ctx := context.Background()
	a, b := Database(t), Database(t)
	if a == b || !strings.HasPrefix(a, "postgres://postgres@127.0.0.1:") {
		t.Fatalf("databases %q and %q", a, b)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	if _, err := ca.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	var n int
	if err := cb.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE tablename = 't'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a table made in one database shows in the other (%d, %v)", n, err)
	}
	var listen string
	if err := ca.QueryRow(ctx, `SHOW listen_addresses`).Scan(&listen); err != nil || listen != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, %v", listen, err)
	}
}

// TestRequireWithoutPostgres: on a machine without PostgreSQL a test that
// needs it is skipped, and fails when CI=true (on Linux: elsewhere there
// is no private cluster to ask for).
func TestRequireWithoutPostgres(t *testing.T) {
	if os.Getenv("PGTEST_CHILD") == "1" {
		Require(t)
		t.Log("PostgreSQL started")
		return
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireWithoutPostgres$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_CHILD=1", "CONSULVOTE_PG_URL=", "CONSULVOTE_PG_BIN="+t.TempDir(), "CI="+ci)
		out, err := cmd.CombinedOutput()
		switch {
		case runtime.GOOS != "linux" && (err != nil || !strings.Contains(string(out), "--- SKIP")):
			// No private cluster there at all: a skip, even under CI.
			t.Errorf("on %s, CI=%q: %v\n%s", runtime.GOOS, ci, err, out)
		case runtime.GOOS != "linux":
		case ci == "true" && (err == nil || !strings.Contains(string(out), "--- FAIL")):
			t.Errorf("CI=true without PostgreSQL: %v\n%s", err, out)
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP")):
			t.Errorf("without PostgreSQL: %v\n%s", err, out)
		}
	}
}
