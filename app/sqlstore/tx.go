package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"consulvote/app/service"
)

// Tx is one transaction; it implements every role of service.Tx.
type Tx struct {
	ctx  context.Context
	tx   *sql.Tx
	conn *sql.Conn // a write transaction's connection (COPY, batches)
	d    *dialect
	// write is set in Update: lookups then lock what they decide on.
	write bool
	// rates holds the rate limits' times read in this transaction, by
	// key, for AddRateEvent to write back.
	rates map[string][]int64
	// later holds the statements execLater kept for the next round trip.
	later []stmt
	// ids reserves row ids ahead (PostgreSQL; DB.ids), nil elsewhere.
	ids *idReserve
}

// stmt is a statement kept for later, and what it does, for its error.
type stmt struct {
	what, query string
	args        []any
}

var _ service.Tx = (*Tx)(nil) // and so every role: Tx embeds them all

// Advisory lock classes (PostgreSQL's pg_advisory_xact_lock(class, key)):
// the class keeps the uses apart. SQLite's single writer holds them all.
const (
	lockMigrations = 1 // key 0
	lockAudit      = 2 // the audit checkpoints' sequence; key 0
	lockAddress    = 4 // the desk's moves onto an e-mail address; key from its keyed hash
)

// nanos stores a time as Unix nanoseconds; the zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// timeOf reads what nanos stored.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}

// idOrNull stores a zero id as NULL, as "no voter".
func idOrNull(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// bytesOrNull stores an empty hash as NULL, as "no identifier".
func bytesOrNull(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (t *Tx) exec(query string, args ...any) error {
	_, err := t.affected(query, args...)
	return err
}

func (t *Tx) queryRow(query string, args ...any) row {
	if err := t.flush(); err != nil {
		return row{err: err}
	}
	return row{Row: t.tx.QueryRowContext(t.ctx, query, args...)}
}

// row is a *sql.Row, or the failure of the statements sent before it.
type row struct {
	*sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Scan(dest...)
}

// execLater runs a statement whose outcome nobody reads but its error,
// where the dialect sends statements together (PostgreSQL): with the next
// ones kept, before the next statement or the commit, in one round trip.
// Its error comes from there, what naming it. Elsewhere it runs now.
func (t *Tx) execLater(what, query string, args ...any) error {
	if t.d.sendAll == nil {
		err := t.exec(query, args...)
		return errWrap(what, err)
	}
	t.later = append(t.later, stmt{what, query, args})
	return nil
}

// flush sends the statements execLater kept.
func (t *Tx) flush() error {
	later := t.later
	t.later = nil
	switch len(later) {
	case 0:
		return nil
	case 1:
		_, err := t.tx.ExecContext(t.ctx, later[0].query, later[0].args...)
		return errWrap(later[0].what, err)
	}
	return t.d.sendAll(t, later)
}

// changed runs a conditional statement and reports whether it changed
// exactly one row.
func (t *Tx) changed(query string, args ...any) (bool, error) {
	n, err := t.affected(query, args...)
	return n == 1, err
}

// affected runs a statement and returns how many rows it changed.
func (t *Tx) affected(query string, args ...any) (int64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	r, err := t.tx.ExecContext(t.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// forUpdate is appended to the lookups that a write transaction decides
// on: the row stays locked until the transaction ends.
func (t *Tx) forUpdate() string {
	if t.write {
		return t.d.forUpdate
	}
	return ""
}

// lock takes the lock (class, key) until the transaction ends, in a
// write transaction.
func (t *Tx) lock(class int32, key []byte) error {
	if !t.write || t.d.lock == nil {
		return nil
	}
	return t.d.lock(t, class, key)
}

// scanner is a row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// each calls fn on every row of a query.
func each(rows *sql.Rows, err error, fn func(scanner) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// collect reads every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) (out []T, _ error) {
	return out, each(rows, err, func(r scanner) error {
		v, err := scan(r)
		out = append(out, v)
		return err
	})
}

func (t *Tx) query(query string, args ...any) (*sql.Rows, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

// scanOne reads a row of one column.
func scanOne[T any](r scanner) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// errWrap adds what failed to err, if any.
func errWrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return service.ErrNotFound
	}
	return err
}

// unstorable reports a text PostgreSQL cannot hold (a NUL character): a
// lookup by it finds nothing, where the query would fail. No stored text
// holds one on SQLite either: the same answer on both.
func unstorable(texts ...string) bool {
	for _, s := range texts {
		if strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// idReserve holds ids the tables' sequences gave ahead (PostgreSQL), for
// the rows this instance inserts next: one round trip for a few, and an
// insert that needs no answer (execLater). Ids reserved over idsFresh ago
// are dropped unused (a sequence leaves gaps anyway), so that ids still
// follow the order rows were inserted in, across instances, to within
// idsFresh.
type idReserve struct {
	mu     sync.Mutex
	tables map[string]*reserved
}

type reserved struct {
	ids   []int64
	taken time.Time
}

const (
	idsAhead = 16
	idsFresh = time.Second
)

// next returns an id for a new row of table (a constant: it is in the
// query).
func (r *idReserve) next(t *Tx, table string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.tables[table]
	if res == nil || len(res.ids) == 0 || time.Since(res.taken) > idsFresh {
		rows, err := t.query(fmt.Sprintf(`SELECT nextval(pg_get_serial_sequence('%s', 'id')) FROM generate_series(1, %d)`,
			table, idsAhead))
		ids, err := collect(rows, err, scanOne[int64])
		if err == nil && len(ids) == 0 {
			err = errors.New("no id")
		}
		if err != nil {
			return 0, fmt.Errorf("reserve %s ids: %w", table, err)
		}
		slices.Sort(ids)
		res = &reserved{ids: ids, taken: time.Now()}
		r.tables[table] = res
	}
	id := res.ids[0]
	res.ids = res.ids[1:]
	return id, nil
}

// nextID returns the id of table's next row, for an insert that needs
// no answer (execLater) or a seal that covers the id: on PostgreSQL from
// the instance's reserve; on SQLite the next rowid, which nobody takes
// meanwhile (the single writer holds the file's lock).
func (t *Tx) nextID(table string) (int64, error) {
	if t.ids != nil {
		return t.ids.next(t, table)
	}
	var id int64
	err := t.queryRow(`SELECT COALESCE(MAX(id), 0) + 1 FROM ` + table).Scan(&id)
	return id, errWrap(table+" id", err)
}

// insertRow inserts a row of table whose id is the query's $1 (nextID)
// and returns the id; nobody reads the insert's outcome (execLater).
func (t *Tx) insertRow(table, what, query string, args ...any) (int64, error) {
	id, err := t.nextID(table)
	if err != nil {
		return 0, err
	}
	return id, t.execLater(what, query, append([]any{id}, args...)...)
}
