package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"consulvote/app/service"
)

func (t *Tx) StartAuditChain(c service.AuditChain) error {
	res, err := t.exec(`INSERT INTO audit_chains (id, started_at, origin) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, nanos(c.StartedAt), c.Origin)
	return inserted(res, err, fmt.Sprintf("start audit chain %d", c.ID))
}

// inserted wraps the outcome of an INSERT … ON CONFLICT DO NOTHING:
// service.ErrConflict when the row's key was taken.
func inserted(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, service.ErrConflict)
	}
	return nil
}

// AppendAudit stores r as given: the service computed its hash. The
// unique index on (chain_id, seq) refuses a second row at r's place, the
// foreign key a chain not registered; SQLite numbers the row.
func (t *Tx) AppendAudit(r service.AuditRow) error {
	if r.Chain == 0 || r.Seq < 1 {
		return fmt.Errorf("append audit row: no place in a chain (%d, %d)", r.Chain, r.Seq)
	}
	var voter any
	if r.VoterID != 0 {
		voter = r.VoterID
	}
	res, err := t.exec(`INSERT INTO audit (chain_id, seq, at, actor, action, voter_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (chain_id, seq) DO NOTHING`,
		r.Chain, r.Seq, nanos(r.At), r.Actor, r.Action, voter, r.Detail, r.PrevHash, r.Hash)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		// The chain is not registered (any more): the row is refused as
		// surely as at a place taken.
		err = fmt.Errorf("%w: %w", service.ErrConflict, err)
	}
	return inserted(res, err, fmt.Sprintf("append audit row %d of chain %d", r.Seq, r.Chain))
}

// AuditTail reads the chain's last row among the rows whose place is an
// integer: SQLite keeps any type in any column, and sorts a text above
// every integer, so a place made text by hand would otherwise stand for
// the tail and hide the rows after it from the checkpoints. Such a row is
// the verification's finding, never the signer's guide.
func (t *Tx) AuditTail(chain int64) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT seq, hash FROM audit WHERE chain_id = ? AND typeof(seq) = 'integer'
		ORDER BY seq DESC LIMIT 1`, chain).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, err
}

// UnsealedAuditChains: a chain is sealed by a checkpoint's tail, which
// the checkpoint's MAC covers, never by a column nobody signs.
func (t *Tx) UnsealedAuditChains() ([]int64, error) {
	return t.ids(`SELECT id FROM audit_chains c WHERE NOT EXISTS
		(SELECT 1 FROM chain_checkpoint_tails tl WHERE tl.chain_id = c.id AND tl.sealed = 1) ORDER BY id`)
}

func (t *Tx) AuditChains() ([]int64, error) {
	return t.ids(`SELECT id FROM audit_chains ORDER BY id`)
}

func (t *Tx) ids(query string, args ...any) ([]int64, error) {
	rows, err := t.tx.QueryContext(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (t *Tx) AuditUpgrade() (int64, int64, error) {
	var n, last int64
	err := t.tx.QueryRowContext(t.ctx, `SELECT row_count, last_id FROM audit_chain_upgrade`).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return n, last, err
}

func (t *Tx) EndAuditUpgrade() error {
	_, err := t.exec(`DELETE FROM audit_chain_upgrade`)
	return err
}

func (t *Tx) MoveAuditRows(rows []service.AuditRow) error {
	for _, r := range rows {
		if _, err := t.exec(`UPDATE audit SET chain_id = ?, seq = ?, prev_hash = ?, hash = ? WHERE id = ? AND chain_id IS NULL`,
			r.Chain, r.Seq, r.PrevHash, r.Hash, r.ID); err != nil {
			return fmt.Errorf("move audit row %d: %w", r.ID, err)
		}
	}
	_, err := t.exec(`DELETE FROM audit_checkpoints`)
	return err
}

// AuditRows reads the older version's rows (chain_id NULL) first: SQLite
// sorts NULL first, and the index on (chain_id, seq) ends with the rowid.
func (t *Tx) AuditRows(fn func(service.AuditRow) error) error {
	// CAST as in Checkpoints: a value of another type is a row that fails
	// its HMAC, not an error that stops the verification.
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, CAST(COALESCE(chain_id, 0) AS INTEGER), CAST(COALESCE(seq, 0) AS INTEGER),
		CAST(at AS INTEGER), CAST(actor AS TEXT), CAST(action AS TEXT), CAST(COALESCE(voter_id, 0) AS INTEGER),
		CAST(detail AS TEXT), CAST(prev_hash AS BLOB), CAST(hash AS BLOB) FROM audit ORDER BY chain_id, seq, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r service.AuditRow
		var at sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Chain, &r.Seq, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
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

// LastCheckpoint needs no lock: SQLite has one writer at a time.
func (t *Tx) LastCheckpoint() (service.Checkpoint, error) {
	var c service.Checkpoint
	var at sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT seq, CAST(at AS INTEGER), mac FROM chain_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&c.Seq, &at, &c.MAC)
	if errors.Is(err, sql.ErrNoRows) {
		return service.Checkpoint{}, nil
	}
	c.At = timeOf(at)
	return c, err
}

func (t *Tx) SignedTail(chain int64) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT seq, hash FROM chain_checkpoint_tails WHERE chain_id = ? ORDER BY seq DESC LIMIT 1`,
		chain).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, err
}

func (t *Tx) InsertCheckpoint(c service.Checkpoint) error {
	if _, err := t.exec(`INSERT INTO chain_checkpoints (seq, at, mac) VALUES (?, ?, ?)`, c.Seq, nanos(c.At), c.MAC); err != nil {
		return fmt.Errorf("checkpoint %d: %w", c.Seq, err)
	}
	for _, tl := range c.Tails {
		if _, err := t.exec(`INSERT INTO chain_checkpoint_tails (checkpoint_seq, chain_id, seq, hash, sealed) VALUES (?, ?, ?, ?, ?)`,
			c.Seq, tl.Chain, tl.Seq, tl.Hash, tl.Sealed); err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Seq, err)
		}
	}
	return nil
}

func (t *Tx) Checkpoints(fn func(service.Checkpoint) error) error { return t.CheckpointsAfter(0, fn) }

func (t *Tx) CheckpointMAC(seq int64) ([]byte, error) {
	var mac []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT mac FROM chain_checkpoints WHERE seq = ?`, seq).Scan(&mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return mac, err
}

func (t *Tx) CheckpointsAfter(after int64, fn func(service.Checkpoint) error) error {
	// SQLite keeps whatever type a writer puts in a column: every value is
	// read as the type the MAC covers (CAST never fails), so that a value
	// of another type makes its checkpoint fail its MAC (a finding)
	// instead of stopping every checkpoint and verification with an error.
	rows, err := t.tx.QueryContext(t.ctx, `SELECT c.seq, CAST(c.at AS INTEGER), CAST(c.mac AS BLOB), CAST(tl.chain_id AS INTEGER),
		CAST(tl.seq AS INTEGER), CAST(tl.hash AS BLOB), COALESCE(CAST(tl.sealed AS INTEGER), 0) != 0
		FROM chain_checkpoints c LEFT JOIN chain_checkpoint_tails tl ON tl.checkpoint_seq = c.seq WHERE c.seq > ? ORDER BY c.seq, tl.chain_id`, after)
	if err != nil {
		return err
	}
	defer rows.Close()
	var c service.Checkpoint
	for rows.Next() {
		var seq int64
		var at, chain, tailSeq sql.NullInt64
		var mac, hash []byte
		var sealed bool
		if err := rows.Scan(&seq, &at, &mac, &chain, &tailSeq, &hash, &sealed); err != nil {
			return err
		}
		if seq != c.Seq {
			if c.Seq != 0 {
				if err := fn(c); err != nil {
					return err
				}
			}
			c = service.Checkpoint{Seq: seq, At: timeOf(at), MAC: mac}
		}
		if chain.Valid {
			c.Tails = append(c.Tails, service.ChainTail{Chain: chain.Int64, Seq: tailSeq.Int64, Hash: hash, Sealed: sealed})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if c.Seq != 0 {
		return fn(c)
	}
	return nil
}

func (t *Tx) LegacyCheckpoints() ([]service.LegacyCheckpoint, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, audit_id, hash, mac, at FROM audit_checkpoints ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []service.LegacyCheckpoint
	for rows.Next() {
		var c service.LegacyCheckpoint
		var at sql.NullInt64
		if err := rows.Scan(&c.Seq, &c.AuditID, &c.Hash, &c.MAC, &at); err != nil {
			return nil, err
		}
		c.At = timeOf(at)
		cs = append(cs, c)
	}
	return cs, rows.Err()
}
