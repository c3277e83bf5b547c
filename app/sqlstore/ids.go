package sqlstore

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

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
		if r.tables == nil {
			r.tables = map[string]*reserved{}
		}
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
