// Package pgtest gives a test binary a private PostgreSQL cluster: initdb
// in a temporary folder and a server on a free 127.0.0.1 port, started on
// first need and stopped when the tests end, and a new empty database for
// each test that asks.
//
// It uses the PostgreSQL of the machine (Debian's postgresql package; the
// Makefile installs it; CONSULVOTE_PG_BIN names another bin folder). With
// CONSULVOTE_PG_URL set (scripts/with-postgres sets it), the tests use
// that server instead, with its own settings, and start none. Run as root, initdb and the server run as the
// postgres user, which PostgreSQL requires and the package creates. With
// no PostgreSQL, tests skip, unless CI=true: then they fail.
//
// Use:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//	…
//	dsn := pgtest.Database(t) // postgres://…, a new database
package pgtest

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is the running server of this test binary.
type cluster struct {
	dir     string // temporary folder: data/, the socket, the log
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	version int // server_version_num
	// external is the URL of a server started by someone else
	// (CONSULVOTE_PG_URL): the tests make their databases there and start
	// nothing.
	external *neturl.URL
}

var (
	mainCalled atomic.Bool
	once       sync.Once
	running    *cluster
	startErr   error
	missing    bool // no PostgreSQL on this machine
	databases  atomic.Int64
)

// Main runs the tests and then stops the cluster, if a test started it,
// and removes its folder. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that has more to clean
// after the tests: it returns their exit code.
func Run(m *testing.M) int {
	mainCalled.Store(true)
	code := m.Run()
	if running != nil {
		running.stop()
	}
	return code
}

// Available starts the cluster if needed and tells whether it runs; when
// it does not, it says why. Missing is true when the machine has no
// PostgreSQL at all (rather than one that failed to start).
func Available() (ok, notInstalled bool, why error) {
	once.Do(func() { running, startErr = start() })
	return startErr == nil, missing, startErr
}

// Require starts the cluster if needed, or ends t: skipped when the
// machine has no PostgreSQL and CI is not set, failed otherwise.
func Require(t testing.TB) {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("pgtest: the package's TestMain must call pgtest.Main, which stops the cluster")
	}
	ok, notInstalled, err := Available()
	switch {
	case ok:
	case notInstalled && os.Getenv("CI") != "true":
		t.Skipf("PostgreSQL is not installed (make deps installs it; CI=true fails instead): %v", err)
	case notInstalled && runtime.GOOS != "linux":
		t.Skipf("no private PostgreSQL cluster on %s (set CONSULVOTE_PG_URL to use a server): %v", runtime.GOOS, err)
	default:
		t.Fatalf("PostgreSQL test cluster: %v", err)
	}
}

// Database creates a new, empty database on the cluster and returns its
// URL. The cluster is removed whole at the end; on a server of
// CONSULVOTE_PG_URL, the database is dropped when t ends.
func Database(t testing.TB) string {
	t.Helper()
	Require(t)
	// The process id keeps apart the test binaries that share a server.
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), databases.Add(1))
	if err := running.exec(context.Background(), createDatabase(name, running.version)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if running.external != nil {
		// Someone else's server is not removed whole: drop what we made.
		t.Cleanup(func() {
			running.exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		})
	}
	return running.url(name)
}

// createDatabase copies template1. From PostgreSQL 15 on, FILE_COPY is
// asked for: it copies the few files of a small database at once, where
// the default logs each block (several times slower for tests).
func createDatabase(name string, version int) string {
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if version >= 150000 {
		q += " STRATEGY = FILE_COPY"
	}
	return q
}

// Program returns the path of one of PostgreSQL's programs (pg_dump,
// pg_restore, psql…) of the machine's installation, or ends t as Require
// does when there is none.
func Program(t testing.TB, name string) string {
	t.Helper()
	bin, err := binDir()
	if err == nil {
		_, err = os.Stat(filepath.Join(bin, name))
	}
	if err != nil {
		if os.Getenv("CI") != "true" || runtime.GOOS != "linux" {
			t.Skipf("PostgreSQL's %s is not installed: %v", name, err)
		}
		t.Fatalf("PostgreSQL's %s: %v", name, err)
	}
	return filepath.Join(bin, name)
}

// Admin returns the URL of the cluster's maintenance database (postgres),
// for tests that look at the server itself.
func Admin(t testing.TB) string {
	t.Helper()
	Require(t)
	return running.url("postgres")
}

func (c *cluster) url(db string) string {
	if c.external != nil {
		u := *c.external
		u.Path = "/" + db
		return u.String()
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// useExternal connects to the server at rawURL.
func useExternal(rawURL string) (*cluster, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("CONSULVOTE_PG_URL: %w", err)
	}
	c := &cluster{external: u}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("CONSULVOTE_PG_URL: %w", err)
	}
	defer conn.Close(ctx)
	var v string
	err = conn.QueryRow(ctx, "SHOW server_version_num").Scan(&v)
	c.version, _ = strconv.Atoi(v)
	return c, err
}

func (c *cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// binDir finds initdb and postgres: in $CONSULVOTE_PG_BIN when set, else
// on the PATH, else in Debian's /usr/lib/postgresql/<version>/bin (the
// newest version).
func binDir() (string, error) {
	if dir := os.Getenv("CONSULVOTE_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("CONSULVOTE_PG_BIN: %w", err)
		}
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// A link on the PATH leads to the installation's bin folder, where
		// postgres and the other programs are.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("no initdb on the PATH nor in /usr/lib/postgresql/*/bin")
	}
	version := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	slices.SortFunc(found, func(a, b string) int { return version(b) - version(a) })
	return filepath.Dir(found[0]), nil
}

// start makes and starts the cluster, or uses CONSULVOTE_PG_URL's.
func start() (*cluster, error) {
	if u := os.Getenv("CONSULVOTE_PG_URL"); u != "" {
		return useExternal(u)
	}
	return startPrivate()
}

// stop shuts the server down fast (SIGINT: no new session, running ones
// are ended) and removes the folder.
func (c *cluster) stop() {
	if c.cmd != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	os.RemoveAll(c.dir)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
