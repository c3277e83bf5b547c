package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"consulvote/app/service"
)

// AppendAudit stores r as given: the service computed its hash. The
// primary key refuses a second row with r's ID.
func (t *Tx) AppendAudit(r service.AuditRow) error {
	var voter any
	if r.VoterID != 0 {
		voter = r.VoterID
	}
	_, err := t.exec(`INSERT INTO audit (id, at, actor, action, voter_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, nanos(r.At), r.Actor, r.Action, voter, r.Detail, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("append audit row %d: %w", r.ID, err)
	}
	return nil
}

func (t *Tx) RechainAudit(rows []service.AuditRow, cps []service.Checkpoint) error {
	for _, r := range rows {
		if _, err := t.exec(`UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?`, r.PrevHash, r.Hash, r.ID); err != nil {
			return fmt.Errorf("rechain audit row %d: %w", r.ID, err)
		}
	}
	if _, err := t.exec(`DELETE FROM audit_checkpoints`); err != nil {
		return err
	}
	for _, c := range cps {
		if err := t.InsertCheckpoint(c); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) LastAudit() (int64, []byte, error) {
	var id int64
	var hash []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1`).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return id, hash, err
}

func (t *Tx) AuditRows(fn func(service.AuditRow) error) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, at, actor, action, COALESCE(voter_id, 0), detail, prev_hash, hash FROM audit ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r service.AuditRow
		var at sql.NullInt64
		if err := rows.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return err
		}
		r.At = timeOf(at)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
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

func (t *Tx) InsertCheckpoint(c service.Checkpoint) error {
	_, err := t.exec(`INSERT INTO audit_checkpoints (id, audit_id, hash, mac, at) VALUES (?, ?, ?, ?, ?)`, c.Seq, c.AuditID, c.Hash, c.MAC, nanos(c.At))
	return err
}

func (t *Tx) Checkpoints() ([]service.Checkpoint, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, audit_id, hash, mac, at FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []service.Checkpoint
	for rows.Next() {
		var c service.Checkpoint
		var at sql.NullInt64
		if err := rows.Scan(&c.Seq, &c.AuditID, &c.Hash, &c.MAC, &at); err != nil {
			return nil, err
		}
		c.At = timeOf(at)
		cs = append(cs, c)
	}
	return cs, rows.Err()
}
