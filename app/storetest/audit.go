package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/audit"
	"consulvote/app/portal"
	"consulvote/app/service"
)

// auditTests are the audit log's: its storage (audit.Storage), each
// tampering found on it, and the service's log on it as several instances
// write, sign and verify it.
func auditTests() []storeTest {
	tests := []storeTest{
		{"AuditLog/AppendAndRead", testAuditAppend},
		{"AuditLog/Search", testAuditSearch},
		{"AuditLog/SignsWhatCommitted", testAuditSign},
		{"AuditLog/LateCommitSigned", testAuditLateCommit},
		{"AuditLog/InstancesAgree", testAuditInstances},
	}
	for _, tc := range tamperings {
		tests = append(tests, storeTest{"AuditLog/Tampering/" + tc.name, tc.run})
	}
	return tests
}

var auditKey = bytes.Repeat([]byte("k"), 32)

// appendRows audits entries, one transaction each.
func appendRows(t *testing.T, st Store, entries ...audit.Entry) {
	t.Helper()
	for _, e := range entries {
		update(t, st, func(tx service.Tx) error { return audit.Append(tx, auditKey, e) })
	}
}

// allRows reads every row, as AuditRows gives them.
func allRows(t *testing.T, st Store) []audit.Row {
	t.Helper()
	var rows []audit.Row
	view(t, st, func(tx service.Tx) error {
		return tx.AuditRows(func(r audit.Row) error { rows = append(rows, r); return nil })
	})
	return rows
}

func allCheckpoints(t *testing.T, st Store) []audit.Checkpoint {
	t.Helper()
	var cps []audit.Checkpoint
	view(t, st, func(tx service.Tx) error {
		return tx.AuditCheckpoints(func(c audit.Checkpoint) error { cps = append(cps, c); return nil })
	})
	return cps
}

func signRows(t *testing.T, st Store, at time.Time) audit.Checkpoint {
	t.Helper()
	var c audit.Checkpoint
	update(t, st, func(tx service.Tx) (err error) {
		c, err = audit.Sign(tx, auditKey, at)
		return err
	})
	return c
}

// testAuditAppend: rows come back as written, to the nanosecond, numbered
// in the order they were inserted and sealed under their id; the history
// views see them newest first.
func testAuditAppend(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	entries := []audit.Entry{
		{At: t0, Actor: "anonymous", Action: "login.failed", Detail: "unknown identifier"},
		{At: t0.Add(time.Nanosecond), Actor: "voter:1", Action: "login", VoterID: voter},
		{At: t0.Add(time.Second), Actor: "agent:paul", Action: "voter.unlocked", VoterID: voter, Detail: "reason: appel"},
	}
	appendRows(t, st, entries...)
	got := allRows(t, st)
	if len(got) != 3 {
		t.Fatalf("AuditRows gave %d rows, want 3", len(got))
	}
	for i, r := range got {
		w := entries[i]
		w.At = r.At // compared with Equal: a time read back has its own location
		if r.Entry != w || !r.At.Equal(entries[i].At) || r.Checkpoint != 0 || !bytes.Equal(r.MAC, audit.RowMAC(auditKey, r.ID, entries[i])) ||
			i > 0 && r.ID <= got[i-1].ID {
			t.Errorf("row %d = %+v; want %+v, unsigned, sealed under its id, after row %d", i, r, entries[i], got[max(i-1, 0)].ID)
		}
	}
	view(t, st, func(tx service.Tx) error {
		hist, err := tx.AuditSearch("", "", voter, 10)
		if err != nil || len(hist) != 2 || hist[0].Action != "voter.unlocked" || !hist[1].At.Equal(entries[1].At) {
			t.Errorf("AuditSearch of the voter = %+v, %v; want the voter's 2 entries, newest first", hist, err)
		}
		stop := errors.New("stop")
		n := 0
		if err := tx.AuditRows(func(audit.Row) error { n++; return stop }); err != stop || n != 1 {
			t.Errorf("AuditRows went on after fn failed (%d calls), or lost its error (%v)", n, err)
		}
		return nil
	})
}

func testAuditSearch(t *testing.T, st Store) {
	voter := addVoter(t, st, "123456")
	appendRows(t, st,
		audit.Entry{At: t0, Actor: "agent:paul", Action: "voter.unlocked", VoterID: voter},
		audit.Entry{At: t0, Actor: "agent:paula", Action: "outbox.retry"},
		audit.Entry{At: t0, Actor: "agent:100%", Action: "voter.links_cancelled", VoterID: voter},
		audit.Entry{At: t0, Actor: "voter:1", Action: "login", VoterID: voter})
	view(t, st, func(tx service.Tx) error {
		for _, c := range []struct {
			actor, action string
			voter         int64
			want          []string // actions, newest first
		}{
			{"", "", 0, []string{"login", "voter.links_cancelled", "outbox.retry", "voter.unlocked"}},
			{"paul", "", 0, []string{"outbox.retry", "voter.unlocked"}},
			{"agent:", "voter.", 0, []string{"voter.links_cancelled", "voter.unlocked"}},
			{"", "", voter, []string{"login", "voter.links_cancelled", "voter.unlocked"}},
			{"agent", "", voter, []string{"voter.links_cancelled", "voter.unlocked"}},
			{"100%", "", 0, []string{"voter.links_cancelled"}}, // % is a character, not a wildcard
			{"_", "", 0, nil},
		} {
			es, err := tx.AuditSearch(c.actor, c.action, c.voter, 10)
			var got []string
			for _, e := range es {
				got = append(got, e.Action)
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("AuditSearch(%q, %q, %d) = %v, %v; want %v", c.actor, c.action, c.voter, got, err, c.want)
			}
		}
		if es, _ := tx.AuditSearch("", "", 0, 2); len(es) != 2 {
			t.Errorf("AuditSearch with limit 2 gave %d", len(es))
		}
		return nil
	})
}

// testAuditSign: a checkpoint marks and signs exactly the rows no
// checkpoint signed, after the newest checkpoint; with none waiting, it
// stores nothing; checkpoints read back as stored, by number.
func testAuditSign(t *testing.T, st Store) {
	appendRows(t, st, audit.Entry{At: t0, Action: "a"}, audit.Entry{At: t0, Action: "b"})
	c1 := signRows(t, st, t0)
	appendRows(t, st, audit.Entry{At: t0, Action: "c"})
	c2 := signRows(t, st, t0.Add(time.Nanosecond))
	if c := signRows(t, st, t0); c.Seq != 0 {
		t.Errorf("a checkpoint with no row to sign: %+v", c)
	}
	if c1.Seq != 1 || c1.Rows != 2 || c2.Seq != 2 || c2.Rows != 1 {
		t.Fatalf("checkpoints %+v, %+v; want 1 of 2 rows, 2 of 1", c1, c2)
	}
	if got := allCheckpoints(t, st); len(got) != 2 || !equalCheckpoint(got[0], c1) || !equalCheckpoint(got[1], c2) {
		t.Errorf("AuditCheckpoints = %+v; want %+v, %+v", got, c1, c2)
	}
	rows := allRows(t, st)
	if len(rows) != 3 || rows[0].Checkpoint != 1 || rows[1].Checkpoint != 1 || rows[2].Checkpoint != 2 {
		t.Errorf("rows %+v; want a and b signed by 1, c by 2", rows)
	}
	if !bytes.Equal(c1.Digest, audit.Digest(rows[:2])) {
		t.Errorf("checkpoint 1 signed other rows than a and b")
	}
}

func equalCheckpoint(a, b audit.Checkpoint) bool {
	return a.Seq == b.Seq && a.At.Equal(b.At) && a.Rows == b.Rows && bytes.Equal(a.Digest, b.Digest) && bytes.Equal(a.MAC, b.MAC)
}

// testAuditLateCommit: a transaction that took its row's id and commits
// after a checkpoint signed a later row (PostgreSQL, where writers run at
// once) is signed by the next checkpoint; the checkpoint does not wait for
// it. With one writer at a time (SQLite), the later writer and the
// checkpoint wait, and the rows commit in order: signed all the same.
func testAuditLateCommit(t *testing.T, st Store) {
	ctx := context.Background()
	// held has room for the first run's word: the transaction must not
	// miss it when it gets there before the test waits.
	held, release := make(chan struct{}, 1), make(chan struct{})
	slow := make(chan error, 1)
	go func() {
		slow <- st.Update(ctx, func(tx service.Tx) error {
			err := audit.Append(tx, auditKey, audit.Entry{At: t0, Action: "slow"})
			select {
			case held <- struct{}{}:
			default: // a second run of the transaction
			}
			<-release
			return err
		})
	}()
	<-held
	fast := make(chan audit.Checkpoint, 1)
	go func() {
		appendRows(t, st, audit.Entry{At: t0, Action: "fast"})
		fast <- signRows(t, st, t0)
	}()
	var first audit.Checkpoint
	select {
	case first = <-fast: // writers at once: the fast row is signed while the slow one is open
		if first.Rows != 1 {
			t.Errorf("the checkpoint signed %d rows while the slow transaction was open; want the fast row only", first.Rows)
		}
	case <-time.After(500 * time.Millisecond): // one writer at a time
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if first.Seq == 0 {
		first = <-fast
	}
	signRows(t, st, t0)
	rows := allRows(t, st)
	var signed int64
	for _, c := range allCheckpoints(t, st) {
		signed += c.Rows
	}
	if len(rows) != 2 || signed != 2 || rows[0].Checkpoint == 0 || rows[1].Checkpoint == 0 {
		t.Errorf("rows %+v, %d signed; want both rows signed once", rows, signed)
	}
	if problems, _, err := auditVerify(st, t0.Add(time.Hour)); err != nil || len(problems) != 0 {
		t.Errorf("Verify = %v, %v", problems, err)
	}
}

func auditVerify(st Store, old time.Time, logged ...audit.Checkpoint) (problems []audit.Problem, rows int, err error) {
	err = st.View(context.Background(), func(tx service.Tx) error {
		problems, rows, err = audit.Verify(tx, auditKey, old, logged)
		return err
	})
	return problems, rows, err
}

// tampering changes the tables behind the log's back, as someone with
// write access to the database but not the key would: each change is
// found, on this database's storage. In the statements, {i} is the id of
// the log's row i (tamperedLog).
type tampering struct {
	name   string
	tamper []string
	want   func(ids []int64) []audit.Problem
}

var tamperings = []tampering{
	{"RowEdited", []string{`UPDATE audit SET detail = 'nothing happened' WHERE id = {1}`},
		func(ids []int64) []audit.Problem { return []audit.Problem{{Cause: audit.Altered, Row: ids[1]}} }},
	{"RowInserted", []string{`INSERT INTO audit (id, at, actor, action, detail, mac, checkpoint)
		SELECT {5} + 100, at, actor, action, detail, mac, 1 FROM audit WHERE id = {0}`},
		func(ids []int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.SignedRowsChanged, Checkpoint: 1, N: 3, M: 4}, {Cause: audit.Altered, Row: ids[5] + 100}}
		}},
	{"RowsReordered", []string{`UPDATE audit SET id = -1 WHERE id = {0}`, `UPDATE audit SET id = {0} WHERE id = {1}`, `UPDATE audit SET id = {1} WHERE id = -1`},
		func(ids []int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.SignedRowsChanged, Checkpoint: 1, N: 3, M: 3},
				{Cause: audit.Moved, Row: ids[0], N: ids[1]}, {Cause: audit.Moved, Row: ids[1], N: ids[0]}}
		}},
	{"RowDeleted", []string{`DELETE FROM audit WHERE id = {4}`},
		func([]int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.SignedRowsGone, Checkpoint: 2, N: 1}}
		}},
	{"RowUnsigned", []string{`UPDATE audit SET checkpoint = 0 WHERE id = {4}`},
		func(ids []int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.SignedRowsGone, Checkpoint: 2, N: 1}, {Cause: audit.Unsigned, Row: ids[4], N: 1}}
		}},
	{"CheckpointEdited", []string{`UPDATE audit_checkpoints SET at = at + 1 WHERE seq = 1`},
		func([]int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.CheckpointSignature, Checkpoint: 1}}
		}},
	{"CheckpointDeleted", []string{`DELETE FROM audit_checkpoints WHERE seq = 1`, `UPDATE audit SET checkpoint = 0 WHERE checkpoint = 1`},
		func(ids []int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.CheckpointGap, Checkpoint: 2, N: 1, M: 1}, {Cause: audit.Unsigned, Row: ids[0], N: 3}}
		}},
	{"NewestCheckpointDeleted", []string{`DELETE FROM audit_checkpoints WHERE seq = 2`},
		func([]int64) []audit.Problem {
			return []audit.Problem{{Cause: audit.CheckpointGone, Checkpoint: 2, N: 3}}
		}},
}

func (tc tampering) run(t *testing.T, st Store) {
	appendRows(t, st, entries(3)...)
	signRows(t, st, t0)
	appendRows(t, st, entries(3)...)
	signRows(t, st, t0)
	var ids []int64
	for _, r := range allRows(t, st) {
		ids = append(ids, r.ID)
	}
	if problems, _, err := auditVerify(st, t0.Add(time.Hour)); err != nil || len(problems) != 0 {
		t.Fatalf("before: Verify = %v, %v", problems, err)
	}
	for _, q := range tc.tamper {
		for i, id := range ids {
			q = strings.ReplaceAll(q, fmt.Sprintf("{%d}", i), fmt.Sprint(id))
		}
		tamper(t, st, q)
	}
	problems, _, err := auditVerify(st, t0.Add(time.Hour)) // every row older: unsigned ones show
	if err != nil {
		t.Fatal(err)
	}
	if got, want := problemSet(problems), problemSet(tc.want(ids)); !slices.Equal(got, want) {
		t.Errorf("Verify = %v; want %v", got, want)
	}
}

// entries returns n entries, each its own.
func entries(n int) []audit.Entry {
	var es []audit.Entry
	for i := range n {
		es = append(es, audit.Entry{At: t0.Add(time.Duration(i)), Actor: "system", Action: "test", Detail: fmt.Sprintf("n=%d", i)})
	}
	return es
}

// problemSet is problems as sorted text, to compare in any order.
func problemSet(problems []audit.Problem) []string {
	var s []string
	for _, p := range problems {
		s = append(s, fmt.Sprintf("%+v", p))
	}
	slices.Sort(s)
	return s
}

// testAuditInstances: two instances on one database audit from many
// goroutines at once while both sign checkpoints; every row is signed
// once, and both, and a third started afterwards (a restart), reach the
// same verdicts, before and after a signed row is deleted.
func testAuditInstances(t *testing.T, st Store) {
	const writers, each = 8, 6
	svcs := instances(t, st, 2)
	ctx := context.Background()
	var wg, signers sync.WaitGroup
	done := make(chan struct{})
	for g := range writers {
		wg.Go(func() {
			for k := range each {
				if err := audited(svcs[g%2], 10_000_000+g*each+k); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, svc := range svcs {
		signers.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
				if err := svc.Operator.CheckpointAudit(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	signers.Wait()
	if err := svcs[1].Operator.CheckpointAudit(ctx); err != nil {
		t.Fatal(err)
	}
	rows := allRows(t, st)
	var signed int64
	for _, c := range allCheckpoints(t, st) {
		signed += c.Rows
	}
	if len(rows) < writers*each || signed != int64(len(rows)) {
		t.Fatalf("%d rows, %d signed; want at least %d, all signed once", len(rows), signed, writers*each)
	}
	verdicts := func(wantRows int) []string {
		t.Helper()
		var first []string
		for i, svc := range append(svcs, instances(t, st, 1)...) {
			problems, n, err := svc.Operator.VerifyAuditLog(ctx)
			if err != nil || n != wantRows {
				t.Fatalf("instance %d: VerifyAuditLog = %v, %d rows, %v", i, problems, n, err)
			}
			if got := problemSet(problems); i == 0 {
				first = got
			} else if !slices.Equal(got, first) {
				t.Errorf("instance %d found %v, instance 0 %v", i, got, first)
			}
		}
		return first
	}
	if got := verdicts(len(rows)); len(got) != 0 {
		t.Errorf("an intact log: %v", got)
	}
	r := rows[len(rows)/2]
	tamper(t, st, fmt.Sprintf(`DELETE FROM audit WHERE id = %d`, r.ID))
	if got, want := verdicts(len(rows)-1), problemSet([]audit.Problem{{Cause: audit.SignedRowsGone, Checkpoint: r.Checkpoint, N: 1}}); !slices.Equal(got, want) {
		t.Errorf("a signed row deleted: %v; want %v", got, want)
	}
}

// Tamperer is a store whose tables the suite can change behind the
// service's back, as an intruder with write access to the database but
// not the key file would: Tamper runs one SQL statement. Both databases'
// tests give it; the audit tests that need it fail without it.
type Tamperer interface {
	Tamper(ctx context.Context, sql string) error
}

func tamper(t *testing.T, st Store, sql string) {
	t.Helper()
	tp, ok := st.(Tamperer)
	if !ok {
		t.Fatalf("the store under test does not implement storetest.Tamperer")
	}
	if err := tp.Tamper(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// sevens is a random source of 7s: as the services' CodeRand it makes
// every security code 7777.
type sevens struct{}

func (sevens) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

// instances returns n services on st, as n server instances on one
// database are.
func instances(t *testing.T, st Store, n int) []*service.Service {
	t.Helper()
	cfg := service.DefaultConfig()
	cfg.Secret = auditKey
	cfg.PublicURL = "https://vote.example"
	cfg.RequestFloor = 0
	var svcs []*service.Service
	for range n {
		svc, err := service.New(st, cfg, service.Options{CodeRand: sevens{}})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	return svcs
}

// audited makes svc audit one row: a renewal request for a NUMIC nobody
// has (the audit's "no_match").
func audited(svc *service.Service, numic int) error {
	ctx := context.Background()
	code, err := svc.Portal.NewSecurityCode(ctx)
	if err != nil {
		return err
	}
	return svc.Portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", numic),
		Email: "nobody@example.org", CodeID: code.ID, Code: "7777"})
}
