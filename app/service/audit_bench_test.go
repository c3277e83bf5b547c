package service_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

// BenchmarkCheckpointGrowingLog: one checkpoint's time once the log holds
// N checkpoints, each naming 4 of 64 chains (two instances' pools' worth),
// as after weeks of a checkpoint a minute. A checkpoint that read and
// verified every earlier checkpoint grew with N. steady: a process that
// signed before (it reads only the newer checkpoints); first: a process's
// first checkpoint (it reads them all).
func BenchmarkCheckpointGrowingLog(b *testing.B) {
	for _, n := range []int{1, 20_000, 80_000} {
		for _, first := range []bool{false, true} {
			b.Run(fmt.Sprintf("checkpoints=%d/%s", n, map[bool]string{false: "steady", true: "first"}[first]), func(b *testing.B) {
				ctx := context.Background()
				te := servicetest.New(b, servicetest.Config(), service.Options{})
				raw, err := sql.Open("sqlite", te.Path)
				if err != nil {
					b.Fatal(err)
				}
				defer raw.Close()
				audit := func() {
					if err := service.UpdateForTest(te.Service, ctx, func(tx service.Tx) error {
						return service.AuditActionForTest(te.Service, tx, "login.failed")
					}); err != nil {
						b.Fatal(err)
					}
				}
				audit()
				if err := te.Service.CheckpointAudit(ctx); err != nil {
					b.Fatal(err)
				}
				var lastSeq int64
				var lastMAC []byte
				if err := raw.QueryRow(`SELECT seq, mac FROM chain_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&lastSeq, &lastMAC); err != nil {
					b.Fatal(err)
				}
				tx, err := raw.Begin()
				if err != nil {
					b.Fatal(err)
				}
				const chains = 64
				for i := range chains {
					if _, err := tx.Exec(`INSERT INTO audit_chains (id, started_at, origin) VALUES (?, 0, 'bench')`, int64(1000+i)); err != nil {
						b.Fatal(err)
					}
				}
				at := te.Clock.Now().Add(-time.Hour)
				hash := make([]byte, 32)
				for k := 1; k < n; k++ {
					c := service.Checkpoint{Seq: lastSeq + 1, At: at}
					for j := range 4 {
						c.Tails = append(c.Tails, service.ChainTail{Chain: int64(1000 + (k*4+j)%chains), Seq: int64(k), Hash: hash})
					}
					c.MAC = service.CheckpointMACForTest(te.Service, c, lastMAC)
					if _, err := tx.Exec(`INSERT INTO chain_checkpoints (seq, at, mac) VALUES (?, ?, ?)`, c.Seq, c.At.UnixNano(), c.MAC); err != nil {
						b.Fatal(err)
					}
					for _, tl := range c.Tails {
						if _, err := tx.Exec(`INSERT INTO chain_checkpoint_tails (checkpoint_seq, chain_id, seq, hash, sealed) VALUES (?, ?, ?, ?, 0)`,
							c.Seq, tl.Chain, tl.Seq, tl.Hash); err != nil {
							b.Fatal(err)
						}
					}
					lastSeq, lastMAC = c.Seq, c.MAC
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				// The process's first checkpoint reads them all (measured by
				// the cold case); the steady state is what each minute costs.
				svc := te.Service
				if !first {
					audit()
					te.Clock.Advance(time.Minute)
					if err := svc.CheckpointAudit(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					audit()
					te.Clock.Advance(time.Minute)
					if first { // a process that has not signed yet
						if svc, err = service.New(te.DB, servicetest.Config(), service.Options{Clock: te.Clock}); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					if err := svc.CheckpointAudit(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
