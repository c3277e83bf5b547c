package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"consulvote/app/audit"
	"consulvote/app/service"
)

// The audit log's storage (audit.Storage; docs/audit.md).

// AppendAudit numbers the row as SQLite would (the single writer holds
// the file's lock) for the MAC that covers its id.
func (t *Tx) AppendAudit(e audit.Entry, seal func(id int64) []byte) error {
	var id int64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM audit`).Scan(&id); err != nil {
		return fmt.Errorf("audit row id: %w", err)
	}
	var voter any
	if e.VoterID != 0 {
		voter = e.VoterID
	}
	_, err := t.exec(`INSERT INTO audit (id, at, actor, action, voter_id, detail, mac) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, e.At.UnixNano(), e.Actor, e.Action, voter, e.Detail, seal(id))
	if err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	return nil
}

// SignAudit needs no lock: SQLite has one writer at a time.
func (t *Tx) SignAudit(sign func(last audit.Checkpoint, rows []audit.Row) audit.Checkpoint) error {
	var last audit.Checkpoint
	err := t.tx.QueryRowContext(t.ctx, `SELECT seq, mac FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&last.Seq, &last.MAC)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("newest audit checkpoint: %w", err)
	}
	rs, err := t.tx.QueryContext(t.ctx, `UPDATE audit SET checkpoint = ? WHERE checkpoint = 0 RETURNING id, mac`, last.Seq+1)
	if err != nil {
		return fmt.Errorf("mark the unsigned audit rows: %w", err)
	}
	defer rs.Close()
	var rows []audit.Row
	for rs.Next() {
		var r audit.Row
		if err := rs.Scan(&r.ID, &r.MAC); err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil || len(rows) == 0 {
		return err
	}
	rs.Close()
	c := sign(last, rows)
	if _, err := t.exec(`INSERT INTO audit_checkpoints (seq, at, row_count, digest, mac) VALUES (?, ?, ?, ?, ?)`,
		c.Seq, c.At.UnixNano(), c.Rows, c.Digest, c.MAC); err != nil {
		return fmt.Errorf("audit checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

// AuditCheckpoints and AuditRows read every value as the type the MACs
// cover (SQLite keeps any type in any column; CAST never fails): a value
// of another type fails its MAC, a finding, instead of an error that
// stops the verification.
func (t *Tx) AuditCheckpoints(fn func(audit.Checkpoint) error) error {
	rs, err := t.tx.QueryContext(t.ctx, `SELECT seq, CAST(at AS INTEGER), CAST(row_count AS INTEGER), CAST(digest AS BLOB),
		CAST(mac AS BLOB) FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var c audit.Checkpoint
		var at sql.NullInt64
		if err := rs.Scan(&c.Seq, &at, &c.Rows, &c.Digest, &c.MAC); err != nil {
			return err
		}
		c.At = timeOf(at)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rs.Err()
}

func (t *Tx) AuditRows(fn func(audit.Row) error) error {
	rs, err := t.tx.QueryContext(t.ctx, `SELECT id, CAST(at AS INTEGER), CAST(actor AS TEXT), CAST(action AS TEXT),
		CAST(COALESCE(voter_id, 0) AS INTEGER), CAST(detail AS TEXT), CAST(mac AS BLOB), CAST(checkpoint AS INTEGER)
		FROM audit ORDER BY 8, 1`)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var r audit.Row
		var at sql.NullInt64
		if err := rs.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.MAC, &r.Checkpoint); err != nil {
			return err
		}
		r.At = timeOf(at)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rs.Err()
}

func (t *Tx) VoterHistory(voterID int64, limit int) ([]service.AuditEntry, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT at, actor, action, detail FROM audit WHERE voter_id = ? ORDER BY id DESC LIMIT ?`, voterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []service.AuditEntry
	for rows.Next() {
		e := service.AuditEntry{VoterID: voterID}
		var at sql.NullInt64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At = timeOf(at)
		es = append(es, e)
	}
	return es, rows.Err()
}

// like escapes s for a LIKE pattern that contains it.
func like(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
}

func (t *Tx) AuditSearch(actor, action string, voterID int64, limit int) ([]service.AuditEntry, error) {
	q := `SELECT at, actor, action, COALESCE(voter_id, 0), detail FROM audit
		WHERE actor LIKE ? ESCAPE '\' AND action LIKE ? ESCAPE '\'`
	args := []any{like(actor), like(action)}
	if voterID != 0 {
		q += ` AND voter_id = ?`
		args = append(args, voterID)
	}
	rows, err := t.tx.QueryContext(t.ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []service.AuditEntry
	for rows.Next() {
		var e service.AuditEntry
		var at sql.NullInt64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.VoterID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = timeOf(at)
		es = append(es, e)
	}
	return es, rows.Err()
}
