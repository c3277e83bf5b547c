package pgstore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"consulvote/app/audit"
	"consulvote/app/service"
)

// The audit log's storage (audit.Storage; docs/audit.md).

// AppendAudit takes the row's id from the sequence first, for the MAC
// that covers it; it takes no lock.
func (t *Tx) AppendAudit(e audit.Entry, seal func(id int64) []byte) error {
	var id int64
	if err := t.queryRow(`SELECT nextval(pg_get_serial_sequence('audit', 'id'))`).Scan(&id); err != nil {
		return fmt.Errorf("audit row id: %w", err)
	}
	var voter *int64
	if e.VoterID != 0 {
		voter = &e.VoterID
	}
	_, err := t.exec(`INSERT INTO audit (id, at, actor, action, voter_id, detail, mac) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, e.At.UnixNano(), e.Actor, e.Action, voter, e.Detail, seal(id))
	if err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	return nil
}

// SignAudit takes the checkpoints' advisory lock, held until commit: the
// checkpoints of every instance queue there, each after the one before
// (once a minute per instance: the audited writes never take it). One
// statement marks the committed rows no checkpoint signed (read
// committed): a row that commits meanwhile, whatever its id, waits for
// the next checkpoint.
func (t *Tx) SignAudit(sign func(last audit.Checkpoint, rows []audit.Row) audit.Checkpoint) error {
	if err := t.lock(lockAudit, 0); err != nil {
		return fmt.Errorf("audit checkpoints' lock: %w", err)
	}
	var last audit.Checkpoint
	err := t.queryRow(`SELECT seq, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&last.Seq, &last.MAC)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("newest audit checkpoint: %w", err)
	}
	rs, err := t.tx.Query(t.ctx, `UPDATE audit SET checkpoint = $1 WHERE checkpoint = 0 RETURNING id, mac`, last.Seq+1)
	if err != nil {
		return fmt.Errorf("mark the unsigned audit rows: %w", err)
	}
	rows, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (audit.Row, error) {
		var a audit.Row
		return a, r.Scan(&a.ID, &a.MAC)
	})
	if err != nil || len(rows) == 0 {
		return err
	}
	c := sign(last, rows)
	if _, err := t.exec(`INSERT INTO audit_checkpoints (seq, at, row_count, digest, mac) VALUES ($1, $2, $3, $4, $5)`,
		c.Seq, c.At.UnixNano(), c.Rows, c.Digest, c.MAC); err != nil {
		return fmt.Errorf("audit checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

func (t *Tx) AuditCheckpoints(fn func(audit.Checkpoint) error) error {
	rs, err := t.tx.Query(t.ctx, `SELECT seq, at, row_count, digest, mac FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var c audit.Checkpoint
		var at int64
		if err := rs.Scan(&c.Seq, &at, &c.Rows, &c.Digest, &c.MAC); err != nil {
			return err
		}
		c.At = time.Unix(0, at)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rs.Err()
}

func (t *Tx) AuditRows(fn func(audit.Row) error) error {
	rs, err := t.tx.Query(t.ctx, `SELECT id, at, actor, action, COALESCE(voter_id, 0), detail, mac, checkpoint
		FROM audit ORDER BY checkpoint, id`)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var r audit.Row
		var at int64
		if err := rs.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.MAC, &r.Checkpoint); err != nil {
			return err
		}
		r.At = time.Unix(0, at)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rs.Err()
}

func scanEntry(r pgx.CollectableRow) (service.AuditEntry, error) {
	var e service.AuditEntry
	var at int64
	err := r.Scan(&at, &e.Actor, &e.Action, &e.VoterID, &e.Detail)
	e.At = timeOf(&at)
	return e, err
}

func (t *Tx) VoterHistory(voterID int64, limit int) ([]service.AuditEntry, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT at, actor, action, voter_id, detail FROM audit WHERE voter_id = $1
		ORDER BY id DESC LIMIT $2`, voterID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanEntry)
}

// like escapes s for a pattern that contains it.
func like(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
}

// AuditSearch matches without case, as SQLite's LIKE does (ILIKE).
func (t *Tx) AuditSearch(actor, action string, voterID int64, limit int) ([]service.AuditEntry, error) {
	if unstorable(actor, action) {
		return nil, nil
	}
	q := `SELECT at, actor, action, COALESCE(voter_id, 0), detail FROM audit
		WHERE actor ILIKE $1 ESCAPE '\' AND action ILIKE $2 ESCAPE '\'`
	args := []any{like(actor), like(action)}
	if voterID != 0 {
		q += ` AND voter_id = $3`
		args = append(args, voterID)
	}
	args = append(args, limit)
	rows, err := t.tx.Query(t.ctx, q+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanEntry)
}
