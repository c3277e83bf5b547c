package pgstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"consulvote/app/service"
)

// AppendAudit stores r as given: the service computed its hash. The
// primary key refuses a second row with r's ID.
func (t *Tx) AppendAudit(r service.AuditRow) error {
	var voter *int64
	if r.VoterID != 0 {
		voter = &r.VoterID
	}
	_, err := t.exec(`INSERT INTO audit (id, at, actor, action, voter_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, nanos(r.At), r.Actor, r.Action, voter, r.Detail, r.PrevHash, r.Hash)
	if err != nil {
		return fmt.Errorf("append audit row %d: %w", r.ID, err)
	}
	return nil
}

// LastAudit, in a write transaction, first takes the chain's lock, held
// until commit: writers on every instance queue there, each reads the
// tail its predecessor committed (READ COMMITTED reads anew per
// statement), and the chain has one order.
func (t *Tx) LastAudit() (int64, []byte, error) {
	if t.write {
		if err := t.lock(lockAudit, 0); err != nil {
			return 0, nil, err
		}
	}
	var id int64
	var hash []byte
	err := t.queryRow(`SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1`).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	return id, hash, err
}

func (t *Tx) AuditRows(fn func(service.AuditRow) error) error {
	rows, err := t.tx.Query(t.ctx, `SELECT id, at, actor, action, COALESCE(voter_id, 0), detail, prev_hash, hash FROM audit ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r service.AuditRow
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return err
		}
		r.At = timeOf(&at)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
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

func (t *Tx) RechainAudit(rows []service.AuditRow, cps []service.Checkpoint) error {
	for _, r := range rows {
		if _, err := t.exec(`UPDATE audit SET prev_hash = $1, hash = $2 WHERE id = $3`, r.PrevHash, r.Hash, r.ID); err != nil {
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

func (t *Tx) InsertCheckpoint(c service.Checkpoint) error {
	_, err := t.exec(`INSERT INTO audit_checkpoints (id, audit_id, hash, mac, at) VALUES ($1, $2, $3, $4, $5)`, c.Seq, c.AuditID, c.Hash, c.MAC, nanos(c.At))
	return err
}

func (t *Tx) Checkpoints() ([]service.Checkpoint, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT id, audit_id, hash, mac, at FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (service.Checkpoint, error) {
		var c service.Checkpoint
		var at int64
		err := r.Scan(&c.Seq, &c.AuditID, &c.Hash, &c.MAC, &at)
		c.At = timeOf(&at)
		return c, err
	})
}
