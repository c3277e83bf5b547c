package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"consulvote/app/audit"
	"consulvote/app/service"
)

// The audit log's storage (audit.Storage): rows sealed by the service,
// checkpoints that sign what committed since the last one (docs/audit.md).

// AppendAudit takes the row's id first (nextID), for the MAC that
// covers it.
func (t *Tx) AppendAudit(e audit.Entry, seal func(id int64) []byte) error {
	id, err := t.nextID("audit")
	if err != nil {
		return err
	}
	return t.execLater("append audit row", `INSERT INTO audit (id, at, actor, action, voter_id, detail, mac) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, e.At.UnixNano(), e.Actor, e.Action, idOrNull(e.VoterID), e.Detail, seal(id))
}

// SignAudit marks the committed rows that no checkpoint signed in one
// statement: a row committed meanwhile, whatever its id, waits for the
// next checkpoint.
func (t *Tx) SignAudit(sign func(last audit.Checkpoint, rows []audit.Row) audit.Checkpoint) error {
	if err := t.lock(lockAudit, nil); err != nil {
		return fmt.Errorf("audit checkpoints' lock: %w", err)
	}
	var last audit.Checkpoint
	err := t.queryRow(`SELECT seq, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&last.Seq, &last.MAC)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("newest audit checkpoint: %w", err)
	}
	marked, err := t.query(`UPDATE audit SET checkpoint = $1 WHERE checkpoint = 0 RETURNING id, mac`, last.Seq+1)
	rows, err := collect(marked, err, func(r scanner) (audit.Row, error) {
		var row audit.Row
		return row, r.Scan(&row.ID, &row.MAC)
	})
	if err != nil || len(rows) == 0 {
		return errWrap("mark the unsigned audit rows", err)
	}
	c := sign(last, rows)
	err = t.exec(`INSERT INTO audit_checkpoints (seq, at, row_count, digest, mac) VALUES ($1, $2, $3, $4, $5)`,
		c.Seq, c.At.UnixNano(), c.Rows, c.Digest, c.MAC)
	return errWrap(fmt.Sprintf("audit checkpoint %d", c.Seq), err)
}

// AuditCheckpoints and AuditRows read every value as the type the MACs
// cover (SQLite keeps any type in any column, and its CAST never fails): a
// value of another type fails its MAC, a finding, instead of stopping the
// verification.
func (t *Tx) AuditCheckpoints(fn func(audit.Checkpoint) error) error {
	rows, err := t.query(`SELECT seq, ` + t.casts("at INTEGER", "row_count INTEGER", "digest BLOB", "mac BLOB") +
		` FROM audit_checkpoints ORDER BY seq`)
	return each(rows, err, func(r scanner) error {
		var c audit.Checkpoint
		var at int64
		if err := r.Scan(&c.Seq, &at, &c.Rows, &c.Digest, &c.MAC); err != nil {
			return err
		}
		c.At = time.Unix(0, at)
		return fn(c)
	})
}

func (t *Tx) AuditRows(fn func(audit.Row) error) error {
	rows, err := t.query(`SELECT id, ` + t.casts("at INTEGER", "actor TEXT", "action TEXT", "COALESCE(voter_id, 0) INTEGER",
		"detail TEXT", "mac BLOB", "checkpoint INTEGER") + ` FROM audit ORDER BY 8, 1`)
	return each(rows, err, func(r scanner) error {
		var a audit.Row
		var at int64
		if err := r.Scan(&a.ID, &at, &a.Actor, &a.Action, &a.VoterID, &a.Detail, &a.MAC, &a.Checkpoint); err != nil {
			return err
		}
		a.At = time.Unix(0, at)
		return fn(a)
	})
}

// casts lists "expr TYPE" pairs as the dialect reads them.
func (t *Tx) casts(cols ...string) string {
	for i, c := range cols {
		j := strings.LastIndex(c, " ")
		cols[i] = t.d.as(c[:j], c[j+1:])
	}
	return strings.Join(cols, ", ")
}

func scanEntry(r scanner) (service.AuditEntry, error) {
	var e service.AuditEntry
	var at sql.NullInt64
	err := r.Scan(&at, &e.Actor, &e.Action, &e.VoterID, &e.Detail)
	e.At = timeOf(at)
	return e, err
}

// AuditSearch matches without case (SQLite's LIKE, PostgreSQL's ILIKE).
func (t *Tx) AuditSearch(actor, action string, voterID int64, limit int) ([]service.AuditEntry, error) {
	if unstorable(actor, action) {
		return nil, nil
	}
	q := `SELECT at, actor, action, COALESCE(voter_id, 0), detail FROM audit
		WHERE actor ` + t.d.ilike + ` $1 ESCAPE '\' AND action ` + t.d.ilike + ` $2 ESCAPE '\'`
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`) // for a pattern that contains the text
	args := []any{"%" + esc.Replace(actor) + "%", "%" + esc.Replace(action) + "%"}
	if voterID != 0 {
		q += ` AND voter_id = $3`
		args = append(args, voterID)
	}
	args = append(args, limit)
	rows, err := t.query(q+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	return collect(rows, err, scanEntry)
}
