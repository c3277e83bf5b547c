package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"consulvote/app/api"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
	"consulvote/internal/loadtest"
	"consulvote/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// BenchmarkLoadStores is BenchmarkLoad's renewal requests (each for
// another voter of a 200,000-voter roll, no response floor, no
// per-client limit) on SQLite, on PostgreSQL with one server instance,
// and on PostgreSQL with two instances that share the database, the
// requests dealt to them in turn as a load balancer does. Each instance
// is a service and an HTTP server with its own connection pool, in this
// process. `make load-stores` runs it on a PostgreSQL with its default
// settings (scripts/with-postgres: fsync and synchronous commits on);
// without it, on the tests' private cluster (fsync off). Everything
// shares the machine's cores: the figures compare the stores, they do not
// forecast a deployment.
func BenchmarkLoadStores(b *testing.B) {
	for _, setup := range []struct {
		name string
		open func(b *testing.B) []*service.Service
	}{
		{"sqlite", func(b *testing.B) []*service.Service {
			e := servicetest.New(b, servicetest.Config(), service.Options{})
			loadtest.SeedStore(b, e.DB, loadVoters)
			return []*service.Service{e.Service}
		}},
		{"postgres-1", func(b *testing.B) []*service.Service { return pgInstances(b, 1) }},
		{"postgres-2", func(b *testing.B) []*service.Service { return pgInstances(b, 2) }},
	} {
		b.Run(setup.name, func(b *testing.B) {
			svcs := setup.open(b)
			var urls []string
			for _, svc := range svcs {
				h := New(svc, Options{PerClient: -1})
				srv := httptest.NewServer(h)
				b.Cleanup(srv.Close)
				urls = append(urls, srv.URL+api.IdentifierRenewals)
			}
			var next atomic.Int64
			for _, conc := range []int{16, 64} {
				b.Run(fmt.Sprintf("renewal/c%d", conc), func(b *testing.B) {
					codes := make([]string, b.N)
					for i := range codes {
						c, err := svcs[i%len(svcs)].NewSecurityCode(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						codes[i] = c.ID
					}
					loadtest.RunAcross(b, conc, urls, http.StatusAccepted, func(i int) []byte {
						v := int(next.Add(1)) % loadVoters
						return loadtest.Body(api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 10_000_000+v),
							Email: fmt.Sprintf("votant%d@example.org", v), CodeID: codes[i], Code: servicetest.Code})
					})
				})
			}
		})
	}
}

// pgInstances opens n services on one new PostgreSQL database, each on its
// own pool, as n server instances are; the first seeds the roll.
func pgInstances(b *testing.B, n int) []*service.Service {
	url := pgtest.Database(b)
	clock := servicetest.NewClock(servicetest.Start)
	var svcs []*service.Service
	for i := range n {
		db, err := sqlstore.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		svc, err := service.New(db, servicetest.Config(), service.Options{Clock: clock, CodeRand: servicetest.Sevens{}})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if err := svc.SeedDemoRoll(context.Background()); err != nil {
				b.Fatal(err)
			}
			loadtest.SeedStore(b, db, loadVoters)
		}
		svcs = append(svcs, svc)
	}
	return svcs
}
