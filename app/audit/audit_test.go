package audit_test

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"consulvote/app/audit"
)

// memory is a Storage in memory: each call is one transaction, under mu
// (the store's lock). Its rows and checkpoints are open to the tests, as
// a database is to someone who can write to it.
type memory struct {
	mu   sync.Mutex
	next int64
	rows []audit.Row // committed
	cps  []audit.Checkpoint
}

func (m *memory) AppendAudit(e audit.Entry, seal func(int64) []byte) error {
	m.commit(m.reserve(), e, seal)
	return nil
}

// reserve numbers a row that commits later (commit): a transaction that
// commits after rows numbered above it.
func (m *memory) reserve() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	return m.next
}

func (m *memory) commit(id int64, e audit.Entry, seal func(int64) []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, audit.Row{ID: id, Entry: e, MAC: seal(id)})
}

func (m *memory) SignAudit(sign func(audit.Checkpoint, []audit.Row) audit.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last audit.Checkpoint
	if n := len(m.cps); n > 0 {
		last = m.cps[n-1]
	}
	var todo []audit.Row
	for i, r := range m.rows {
		if r.Checkpoint == 0 {
			m.rows[i].Checkpoint = last.Seq + 1
			todo = append(todo, audit.Row{ID: r.ID, MAC: r.MAC})
		}
	}
	if len(todo) > 0 {
		m.cps = append(m.cps, sign(last, todo))
	}
	return nil
}

func (m *memory) AuditCheckpoints(fn func(audit.Checkpoint) error) error {
	m.mu.Lock()
	cps := slices.Clone(m.cps)
	m.mu.Unlock()
	slices.SortFunc(cps, func(a, b audit.Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, c := range cps {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *memory) AuditRows(fn func(audit.Row) error) error {
	m.mu.Lock()
	rows := slices.Clone(m.rows)
	m.mu.Unlock()
	slices.SortFunc(rows, func(a, b audit.Row) int {
		return cmp.Or(cmp.Compare(a.Checkpoint, b.Checkpoint), cmp.Compare(a.ID, b.ID))
	})
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// row returns the stored row id, to tamper with.
func (m *memory) row(t *testing.T, id int64) *audit.Row {
	t.Helper()
	for i := range m.rows {
		if m.rows[i].ID == id {
			return &m.rows[i]
		}
	}
	t.Fatalf("no row %d", id)
	return nil
}

func (m *memory) deleteRow(id int64) {
	m.rows = slices.DeleteFunc(m.rows, func(r audit.Row) bool { return r.ID == id })
}

var (
	key = bytes.Repeat([]byte("k"), 32)
	t0  = time.Date(2026, 12, 7, 5, 0, 0, 123456789, time.UTC)
	// old is the cut-off for unsigned rows: after t0, so that every row
	// older than it that no checkpoint signs is a finding.
	old = t0.Add(time.Hour)
)

func entry(i int) audit.Entry {
	return audit.Entry{At: t0.Add(time.Duration(i) * time.Second), Actor: "system", Action: "test.row", VoterID: int64(i % 3),
		Detail: fmt.Sprintf("n=%d", i)}
}

// logOf returns a memory log of n rows, each batch of per signed by a
// checkpoint (the last batch may be short).
func logOf(t *testing.T, n, per int) *memory {
	t.Helper()
	m := &memory{}
	for i := 1; i <= n; i++ {
		if err := audit.Append(m, key, entry(i)); err != nil {
			t.Fatal(err)
		}
		if i%per == 0 || i == n {
			sign(t, m, t0.Add(time.Duration(i)*time.Second))
		}
	}
	return m
}

func sign(t *testing.T, m *memory, at time.Time) audit.Checkpoint {
	t.Helper()
	c, err := audit.Sign(m, key, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verify(t *testing.T, m *memory, logged ...audit.Checkpoint) []audit.Problem {
	t.Helper()
	problems, _, err := audit.Verify(m, key, old, logged)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if !slices.Contains(audit.Causes, p.Cause) || p.String() == "" {
			t.Errorf("problem %+v: cause not in audit.Causes", p)
		}
	}
	return problems
}

// want checks that Verify found exactly these problems, in any order.
func want(t *testing.T, m *memory, want ...audit.Problem) {
	t.Helper()
	got := verify(t, m)
	key := func(p audit.Problem) string { return fmt.Sprint(p) }
	if !slices.Equal(sortedBy(got, key), sortedBy(want, key)) {
		t.Errorf("Verify =\n  %v\nwant\n  %v", got, want)
	}
}

func sortedBy(ps []audit.Problem, key func(audit.Problem) string) []string {
	var s []string
	for _, p := range ps {
		s = append(s, key(p))
	}
	slices.Sort(s)
	return s
}

func TestIntact(t *testing.T) {
	m := logOf(t, 10, 4)
	problems, rows, err := audit.Verify(m, key, old, m.cps)
	if err != nil || len(problems) != 0 || rows != 10 {
		t.Fatalf("Verify = %v, %d, %v; want no problem in 10 rows", problems, rows, err)
	}
	if len(m.cps) != 3 || m.cps[0].Rows != 4 || m.cps[2].Rows != 2 {
		t.Errorf("checkpoints %+v; want 3 of 4, 4 and 2 rows", m.cps)
	}
	if c := sign(t, m, old); c.Seq != 0 {
		t.Errorf("a checkpoint with nothing to sign: %+v", c)
	}
}

func TestRowEdited(t *testing.T) {
	m := logOf(t, 6, 3)
	m.row(t, 2).Detail = "n=20"
	m.row(t, 5).At = t0
	want(t, m, audit.Problem{Cause: audit.Altered, Row: 2}, audit.Problem{Cause: audit.Altered, Row: 5})
}

func TestRowInserted(t *testing.T) {
	m := logOf(t, 6, 3)
	forged := audit.Row{ID: 7, Entry: audit.Entry{At: old, Action: "forged"}, MAC: bytes.Repeat([]byte{1}, 32)}
	m.rows = append(m.rows, forged) // unsigned, recent: only its MAC shows
	forged.ID, forged.Checkpoint = 8, 2
	m.rows = append(m.rows, forged) // into a signed checkpoint
	want(t, m, audit.Problem{Cause: audit.Altered, Row: 7}, audit.Problem{Cause: audit.Altered, Row: 8},
		audit.Problem{Cause: audit.SignedRowsChanged, Checkpoint: 2, N: 3, M: 4})
}

func TestRowReordered(t *testing.T) {
	m := logOf(t, 6, 3)
	// Whole rows swapped (their ids), and the contents only of two others.
	a, b := m.row(t, 1), m.row(t, 2)
	a.ID, b.ID = b.ID, a.ID
	c, d := m.row(t, 4), m.row(t, 5)
	c.Entry, d.Entry = d.Entry, c.Entry
	want(t, m, audit.Problem{Cause: audit.Moved, Row: 2, N: 1}, audit.Problem{Cause: audit.Moved, Row: 1, N: 2},
		audit.Problem{Cause: audit.Moved, Row: 4, N: 5}, audit.Problem{Cause: audit.Moved, Row: 5, N: 4},
		audit.Problem{Cause: audit.SignedRowsChanged, Checkpoint: 1, N: 3, M: 3})
}

func TestRowDeleted(t *testing.T) {
	m := logOf(t, 9, 3)
	m.deleteRow(2)
	for _, id := range []int64{7, 8, 9} {
		m.deleteRow(id) // a checkpoint's rows, all of them
	}
	want(t, m, audit.Problem{Cause: audit.SignedRowsGone, Checkpoint: 1, N: 1},
		audit.Problem{Cause: audit.SignedRowsGone, Checkpoint: 3, N: 3})
}

// TestRowUnmarked: a signed row marked unsigned again, for the next
// checkpoint to sign it anew, shows in the checkpoint that signed it.
func TestRowUnmarked(t *testing.T) {
	m := logOf(t, 6, 3)
	m.row(t, 2).Checkpoint = 0
	sign(t, m, old)
	want(t, m, audit.Problem{Cause: audit.SignedRowsGone, Checkpoint: 1, N: 1})
}

func TestCheckpointEdited(t *testing.T) {
	m := logOf(t, 9, 3)
	m.cps[1].Rows = 2
	m.cps[2].At = t0
	want(t, m, audit.Problem{Cause: audit.CheckpointSignature, Checkpoint: 2},
		audit.Problem{Cause: audit.CheckpointSignature, Checkpoint: 3},
		audit.Problem{Cause: audit.SignedRowsChanged, Checkpoint: 2, N: 2, M: 3})
}

func TestCheckpointDeleted(t *testing.T) {
	m := logOf(t, 12, 3)
	m.cps = slices.Delete(m.cps, 1, 2) // checkpoint 2: a gap
	m.cps = m.cps[:len(m.cps)-1]       // checkpoint 4, the newest: its rows still name it
	want(t, m, audit.Problem{Cause: audit.CheckpointGap, Checkpoint: 3, N: 2, M: 2},
		audit.Problem{Cause: audit.CheckpointGone, Checkpoint: 2, N: 3},
		audit.Problem{Cause: audit.CheckpointGone, Checkpoint: 4, N: 3})
}

// TestCheckpointDeletedWithMarks: the newest checkpoint deleted and its
// rows marked unsigned again: they are unsigned, and older than the
// cut-off, so it shows (until a checkpoint signs them again: a rollback,
// which only the logs show, TestRollback).
func TestCheckpointDeletedWithMarks(t *testing.T) {
	m := logOf(t, 6, 3)
	m.cps = m.cps[:1]
	for _, id := range []int64{4, 5, 6} {
		m.row(t, id).Checkpoint = 0
	}
	want(t, m, audit.Problem{Cause: audit.Unsigned, Row: 4, N: 3})
}

func TestUnsigned(t *testing.T) {
	m := logOf(t, 3, 3)
	for i := 4; i <= 6; i++ {
		if err := audit.Append(m, key, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.Append(m, key, audit.Entry{At: old, Action: "recent"}); err != nil {
		t.Fatal(err)
	}
	want(t, m, audit.Problem{Cause: audit.Unsigned, Row: 4, N: 3})
	sign(t, m, old)
	want(t, m)
}

// TestRollback: the database put back as it was at checkpoint 2, then
// signed on; or its newest checkpoint cut with its rows. The database is
// consistent; the checkpoints a log showed are not there as signed.
func TestRollback(t *testing.T) {
	m := logOf(t, 9, 3)
	logged := slices.Clone(m.cps)
	m.cps = m.cps[:2]
	m.rows = m.rows[:6]
	want(t, m)
	if got := verify(t, m, logged...); !slices.Equal(got, []audit.Problem{{Cause: audit.RolledBack, Checkpoint: 3, N: 2}}) {
		t.Errorf("Verify against the log = %v; want checkpoint 3 rolled back", got)
	}
	if err := audit.Append(m, key, entry(100)); err != nil {
		t.Fatal(err)
	}
	sign(t, m, old) // a new checkpoint 3, signed over the rollback
	want(t, m)
	logged = append(logged, logged...) // two logs that show the same: one finding
	if got := verify(t, m, logged...); !slices.Equal(got, []audit.Problem{{Cause: audit.RolledBack, Checkpoint: 3, N: 3}}) {
		t.Errorf("Verify against the log = %v; want checkpoint 3 rolled back", got)
	}
}

// TestLateCommit: a row numbered before rows a checkpoint signed, that
// commits after it, is signed by the next checkpoint; cutting it then
// shows.
func TestLateCommit(t *testing.T) {
	m := &memory{}
	late := m.reserve()
	for i := 2; i <= 4; i++ {
		if err := audit.Append(m, key, entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	sign(t, m, t0)
	e := entry(1)
	m.commit(late, e, func(id int64) []byte { return audit.RowMAC(key, id, e) })
	want(t, m, audit.Problem{Cause: audit.Unsigned, Row: 1, N: 1})
	if c := sign(t, m, t0); c.Seq != 2 || c.Rows != 1 {
		t.Fatalf("second checkpoint %+v; want checkpoint 2 of the late row", c)
	}
	want(t, m)
	m.deleteRow(late)
	want(t, m, audit.Problem{Cause: audit.SignedRowsGone, Checkpoint: 2, N: 1})
}

// TestConcurrentWriters: many goroutines write while others sign; every
// row is signed once, by exactly one checkpoint, and the log verifies.
func TestConcurrentWriters(t *testing.T) {
	const writers, each, signers = 32, 50, 4
	m := &memory{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := audit.Append(m, key, entry(g*each+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var signing sync.WaitGroup
	for range signers {
		signing.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := audit.Sign(m, key, old); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	signing.Wait()
	sign(t, m, old)
	var signed int64
	for _, c := range m.cps {
		signed += c.Rows
	}
	if problems, rows, err := audit.Verify(m, key, old, m.cps); err != nil || len(problems) != 0 ||
		rows != writers*each || signed != writers*each {
		t.Errorf("Verify = %v, %d rows, %v; %d signed; want no problem, %d rows all signed", problems, rows, err, signed, writers*each)
	}
}

// TestSuspectsBounded: beyond maxSuspects rows failing their MAC, each is
// reported altered, without the search for a reorder.
func TestSuspectsBounded(t *testing.T) {
	m := logOf(t, 300, 300)
	for i := range m.rows {
		m.rows[i].Detail += "!"
	}
	got := verify(t, m)
	if len(got) != 300 || got[0].Cause != audit.Altered {
		t.Errorf("Verify found %d problems (%v…); want 300 rows altered", len(got), got[:min(len(got), 1)])
	}
}
