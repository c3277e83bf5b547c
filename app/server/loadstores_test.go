package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
	"consulvote/internal/loadtest"
	"consulvote/internal/pgtest"
)

// TestMain: the binary is RunPairs' load generator when it started it.
func TestMain(m *testing.M) {
	loadtest.ClientMain()
	pgtest.Main(m)
}

// BenchmarkLoadStores is the voter's identifier-renewal pair (a security
// code drawn, then the request that uses it, each for another voter of a
// 200,000-voter roll, no response floor, no per-client limit) at
// concurrency 1, 16 and 64 from one address (renewal/cN), and at 16 and
// 64 with each client from an address of its own (sources/cN: the
// per-source limit's row is then not the same for every request), on
// SQLite, on PostgreSQL with one server instance, and on PostgreSQL with
// two instances that share the database, the requests dealt to them in
// turn as a load balancer does (a code drawn at one is used at the other).
// Each instance is a service and an HTTP server with its own connection
// pool, in this process; the load generator is a child process
// (loadtest.RunPairs): server-cpu-µs/pair is the servers' CPU,
// client-cpu-µs/pair the load generator's. On PostgreSQL it also reports
// the database's CPU per pair (its processes' /proc stat), its write
// transactions per pair (transaction ids assigned) and the transactions
// the services ran per pair (txns/pair: each one commit or rollback).
// `make load-stores` runs it on a PostgreSQL with its default settings
// (scripts/with-postgres: fsync and synchronous commits on); without it,
// on the tests' private cluster. Everything shares the machine's cores:
// the figures compare the stores, they do not forecast a deployment.
func BenchmarkLoadStores(b *testing.B) {
	for _, setup := range []struct {
		name string
		open func(b *testing.B, txns *atomic.Int64) ([]*service.Service, string)
	}{
		{"sqlite", func(b *testing.B, _ *atomic.Int64) ([]*service.Service, string) {
			e := servicetest.New(b, servicetest.Config(), service.Options{})
			loadtest.SeedStore(b, e.DB, loadVoters)
			return []*service.Service{e.Service}, ""
		}},
		{"postgres-1", func(b *testing.B, txns *atomic.Int64) ([]*service.Service, string) {
			svcs, url, _ := pgInstances(b, 1, servicetest.Config(), loadVoters, txns)
			return svcs, url
		}},
		{"postgres-2", func(b *testing.B, txns *atomic.Int64) ([]*service.Service, string) {
			svcs, url, _ := pgInstances(b, 2, servicetest.Config(), loadVoters, txns)
			return svcs, url
		}},
	} {
		b.Run(setup.name, func(b *testing.B) {
			meter := &pgMeter{}
			svcs, url := setup.open(b, &meter.txns)
			var bases []string
			for _, svc := range svcs {
				srv := httptest.NewServer(New(svc.Portal, Options{PerClient: -1}))
				b.Cleanup(srv.Close)
				bases = append(bases, srv.URL)
			}
			var meters []loadtest.Meter
			if url != "" {
				meter.url = url
				meters = append(meters, meter)
			}
			var next atomic.Int64
			for _, p := range []struct {
				name string
				conc int
				own  bool
			}{{"renewal", 1, false}, {"renewal", 16, false}, {"renewal", 64, false}, {"sources", 16, true}, {"sources", 64, true}} {
				b.Run(fmt.Sprintf("%s/c%d", p.name, p.conc), func(b *testing.B) {
					loadtest.RunPairs(b, p.conc, p.own, bases, api.IdentifierRenewals, http.StatusAccepted, func(i int, code string) []byte {
						v := int(next.Add(1)) % loadVoters
						return loadtest.Body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
							Email: fmt.Sprintf("votant%d@example.org", v), CodeID: code, Code: servicetest.Code})
					}, meters...)
				})
			}
		})
	}
}

// pgInstances opens n services with cfg on one new PostgreSQL database,
// each on its own pool, as n server instances are; the first seeds the
// demonstration roll and voters more. It returns them, the database's
// URL and their clock. With txns, the services' transactions are counted
// there.
func pgInstances(b *testing.B, n int, cfg service.Config, voters int, txns *atomic.Int64) ([]*service.Service, string, *servicetest.Clock) {
	url := pgtest.Database(b)
	clock := servicetest.NewClock(servicetest.Start)
	var svcs []*service.Service
	for i := range n {
		db, err := sqlstore.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		var st service.Store = db
		if txns != nil {
			st = countingStore{db, txns}
		}
		svc, err := service.New(st, cfg, service.Options{Clock: clock, CodeRand: servicetest.Sevens{}})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if err := svc.Operator.SeedDemoRoll(context.Background()); err != nil {
				b.Fatal(err)
			}
			if voters > 0 {
				loadtest.SeedStore(b, db, voters)
			}
		}
		svcs = append(svcs, svc)
	}
	return svcs, url, clock
}

// countingStore counts the transactions the service runs (Update, View):
// each ends in one commit, or one rollback.
type countingStore struct {
	service.Store
	n *atomic.Int64
}

func (s countingStore) Update(ctx context.Context, fn func(service.Tx) error) error {
	s.n.Add(1)
	return s.Store.Update(ctx, fn)
}

func (s countingStore) View(ctx context.Context, fn func(service.Tx) error) error {
	s.n.Add(1)
	return s.Store.View(ctx, fn)
}

// pgMeter measures the PostgreSQL server of url over a run: the CPU of
// its processes (the postmaster's children, read from /proc: Linux) and
// the transaction ids it assigned (one per transaction that wrote), and
// the transactions the services ran (txns, counted by countingStore;
// pg_stat_database's commits reach the view seconds late).
type pgMeter struct {
	url                 string
	conn                *pgx.Conn
	postmaster          int
	txns                atomic.Int64
	cpu, xids, txnsFrom int64
}

func (m *pgMeter) Start(b *testing.B) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, m.url)
	if err != nil {
		b.Fatal(err)
	}
	m.conn = conn
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	m.postmaster, _ = procStat(pid)
	m.cpu, m.xids = m.read(b)
	m.txnsFrom = m.txns.Load()
}

func (m *pgMeter) Stop(b *testing.B, n int) {
	txns := m.txns.Load()
	cpu, xids := m.read(b)
	m.conn.Close(context.Background())
	b.ReportMetric(float64(cpu-m.cpu)*1e6/float64(clockTicks)/float64(n), "pg-cpu-µs/pair")
	b.ReportMetric(float64(xids-m.xids)/float64(n), "write-xacts/pair")
	b.ReportMetric(float64(txns-m.txnsFrom)/float64(n), "txns/pair")
}

// read returns the server's CPU in clock ticks and the next transaction
// id.
func (m *pgMeter) read(b *testing.B) (cpu, xid int64) {
	err := m.conn.QueryRow(context.Background(), `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&xid)
	if err != nil {
		b.Fatal(err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
		if ppid, ticks := procStat(pid); pid == m.postmaster || ppid == m.postmaster {
			cpu += ticks
		}
	}
	return cpu, xid
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// Linux whatever the kernel's tick.
const clockTicks = 100

// procStat returns a process's parent and its user and system CPU time in
// clock ticks (/proc/PID/stat fields 4, 14 and 15), zeros when it is gone.
func procStat(pid int) (ppid int, ticks int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, utime + stime
}
