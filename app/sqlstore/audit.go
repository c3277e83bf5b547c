package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"consulvote/app/service"
)

func (t *Tx) StartAuditChain(c service.AuditChain) error {
	res, err := t.exec(`INSERT INTO audit_chains (id, started_at, origin) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
		c.ID, nanos(c.StartedAt), c.Origin)
	return inserted(res, err, fmt.Sprintf("start audit chain %d", c.ID))
}

// inserted wraps the outcome of an INSERT … ON CONFLICT DO NOTHING:
// service.ErrConflict when the row's key was taken (a concurrent insert
// of the same key waits for the first to end, then inserts nothing).
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

// AppendAudit stores r as given: the service computed its hash. It takes
// no lock but the row's: the chain is its writer's alone. The unique index
// on (chain_id, seq) refuses a second row at r's place, the foreign key a
// chain not registered; the identity column numbers the row.
func (t *Tx) AppendAudit(r service.AuditRow) error {
	if r.Chain == 0 || r.Seq < 1 {
		return fmt.Errorf("append audit row: no place in a chain (%d, %d)", r.Chain, r.Seq)
	}
	var voter any
	if r.VoterID != 0 {
		voter = r.VoterID
	}
	res, err := t.exec(`INSERT INTO audit (chain_id, seq, at, actor, action, voter_id, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (chain_id, seq) DO NOTHING`,
		r.Chain, r.Seq, nanos(r.At), r.Actor, r.Action, voter, r.Detail, r.PrevHash, r.Hash)
	if t.d.missingRow(err) {
		// The chain is not registered (any more): the row is refused as
		// surely as at a place taken.
		err = fmt.Errorf("%w: %w", service.ErrConflict, err)
	}
	return inserted(res, err, fmt.Sprintf("append audit row %d of chain %d", r.Seq, r.Chain))
}

// AuditTail reads the chain's last row among the rows whose place is an
// integer: SQLite keeps any type in any column, and sorts a text above
// every integer, so a place made text by hand would otherwise stand for
// the tail and hide the rows after it from the checkpoints.
func (t *Tx) AuditTail(chain int64) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := t.queryRow(`SELECT seq, hash FROM audit WHERE chain_id = $1 AND `+t.d.as("seq", "INTEGER")+` = seq
		ORDER BY seq DESC LIMIT 1`, chain).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, err
}

func (t *Tx) AuditChains() ([]int64, error) {
	rows, err := t.query(`SELECT id FROM audit_chains ORDER BY id`)
	return collect(rows, err, scanInt64)
}

// UnsealedAuditChains: a chain is sealed by a checkpoint's tail, which
// the checkpoint's MAC covers, never by a column nobody signs.
func (t *Tx) UnsealedAuditChains() ([]int64, error) {
	rows, err := t.query(`SELECT id FROM audit_chains c WHERE NOT EXISTS
		(SELECT 1 FROM chain_checkpoint_tails tl WHERE tl.chain_id = c.id AND tl.sealed) ORDER BY id`)
	return collect(rows, err, scanInt64)
}

func (t *Tx) AuditUpgrade() (int64, int64, error) {
	var n, last int64
	err := t.queryRow(`SELECT row_count, last_id FROM audit_chain_upgrade`).Scan(&n, &last)
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
		if _, err := t.exec(`UPDATE audit SET chain_id = $1, seq = $2, prev_hash = $3, hash = $4 WHERE id = $5 AND chain_id IS NULL`,
			r.Chain, r.Seq, r.PrevHash, r.Hash, r.ID); err != nil {
			return fmt.Errorf("move audit row %d: %w", r.ID, err)
		}
	}
	_, err := t.exec(`DELETE FROM audit_checkpoints`)
	return err
}

// AuditRows reads the older version's rows (chain_id NULL) first, then
// the chains. Every value is read as the type the hash covers (SQLite's
// CAST never fails): a value of another type is a row that fails its
// HMAC, not an error that stops the verification.
func (t *Tx) AuditRows(fn func(service.AuditRow) error) error {
	as := t.d.as
	rows, err := t.query(`SELECT id, ` + as("COALESCE(chain_id, 0)", "INTEGER") + `, ` + as("COALESCE(seq, 0)", "INTEGER") + `, ` +
		as("at", "INTEGER") + `, ` + as("actor", "TEXT") + `, ` + as("action", "TEXT") + `, ` + as("COALESCE(voter_id, 0)", "INTEGER") + `, ` +
		as("detail", "TEXT") + `, ` + as("prev_hash", "BLOB") + `, ` + as("hash", "BLOB") + ` FROM audit ORDER BY chain_id NULLS FIRST, seq, id`)
	_, err = collect(rows, err, func(rs scanner) (struct{}, error) {
		var r service.AuditRow
		var at sql.NullInt64
		if err := rs.Scan(&r.ID, &r.Chain, &r.Seq, &at, &r.Actor, &r.Action, &r.VoterID, &r.Detail, &r.PrevHash, &r.Hash); err != nil {
			return struct{}{}, err
		}
		r.At = timeOf(at)
		return struct{}{}, fn(r)
	})
	return err
}

func scanEntry(r scanner) (service.AuditEntry, error) {
	var e service.AuditEntry
	var at sql.NullInt64
	err := r.Scan(&at, &e.Actor, &e.Action, &e.VoterID, &e.Detail)
	e.At = timeOf(at)
	return e, err
}

func (t *Tx) VoterHistory(voterID int64, limit int) ([]service.AuditEntry, error) {
	rows, err := t.query(`SELECT at, actor, action, voter_id, detail FROM audit WHERE voter_id = $1
		ORDER BY id DESC LIMIT $2`, voterID, limit)
	return collect(rows, err, scanEntry)
}

// like escapes s for a pattern that contains it.
func like(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
}

// AuditSearch matches without case (SQLite's LIKE, PostgreSQL's ILIKE).
func (t *Tx) AuditSearch(actor, action string, voterID int64, limit int) ([]service.AuditEntry, error) {
	if unstorable(actor, action) {
		return nil, nil
	}
	q := `SELECT at, actor, action, COALESCE(voter_id, 0), detail FROM audit
		WHERE actor ` + t.d.ilike + ` $1 ESCAPE '\' AND action ` + t.d.ilike + ` $2 ESCAPE '\'`
	args := []any{like(actor), like(action)}
	if voterID != 0 {
		q += ` AND voter_id = $3`
		args = append(args, voterID)
	}
	args = append(args, limit)
	rows, err := t.query(q+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	return collect(rows, err, scanEntry)
}

// LastCheckpoint, in a write transaction, first takes the checkpoints'
// lock, held until commit: the checkpoints of every instance queue there
// and each follows the one committed before it. (Once a minute per
// instance: the audited writes never take it.)
func (t *Tx) LastCheckpoint() (service.Checkpoint, error) {
	if err := t.lock(lockAudit, nil); err != nil {
		return service.Checkpoint{}, err
	}
	var c service.Checkpoint
	var at sql.NullInt64
	err := t.queryRow(`SELECT seq, `+t.d.as("at", "INTEGER")+`, mac FROM chain_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&c.Seq, &at, &c.MAC)
	if errors.Is(err, sql.ErrNoRows) {
		return service.Checkpoint{}, nil
	}
	c.At = timeOf(at)
	return c, err
}

func (t *Tx) SignedTail(chain int64) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := t.queryRow(`SELECT seq, hash FROM chain_checkpoint_tails WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1`, chain).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, err
}

func (t *Tx) InsertCheckpoint(c service.Checkpoint) error {
	if _, err := t.exec(`INSERT INTO chain_checkpoints (seq, at, mac) VALUES ($1, $2, $3)`, c.Seq, nanos(c.At), c.MAC); err != nil {
		return fmt.Errorf("checkpoint %d: %w", c.Seq, err)
	}
	for _, tl := range c.Tails {
		if _, err := t.exec(`INSERT INTO chain_checkpoint_tails (checkpoint_seq, chain_id, seq, hash, sealed) VALUES ($1, $2, $3, $4, $5)`,
			c.Seq, tl.Chain, tl.Seq, tl.Hash, tl.Sealed); err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Seq, err)
		}
	}
	return nil
}

func (t *Tx) Checkpoints(fn func(service.Checkpoint) error) error { return t.CheckpointsAfter(0, fn) }

func (t *Tx) CheckpointMAC(seq int64) ([]byte, error) {
	var mac []byte
	err := t.queryRow(`SELECT mac FROM chain_checkpoints WHERE seq = $1`, seq).Scan(&mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return mac, err
}

func (t *Tx) CheckpointsAfter(after int64, fn func(service.Checkpoint) error) error {
	// Read as the types the MAC covers (see AuditRows).
	as := t.d.as
	rows, err := t.query(`SELECT c.seq, `+as("c.at", "INTEGER")+`, `+as("c.mac", "BLOB")+`, `+as("tl.chain_id", "INTEGER")+`, `+
		as("tl.seq", "INTEGER")+`, `+as("tl.hash", "BLOB")+`, CASE WHEN tl.sealed THEN TRUE ELSE FALSE END
		FROM chain_checkpoints c LEFT JOIN chain_checkpoint_tails tl ON tl.checkpoint_seq = c.seq WHERE c.seq > $1 ORDER BY c.seq, tl.chain_id`, after)
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
	rows, err := t.query(`SELECT id, audit_id, hash, mac, at FROM audit_checkpoints ORDER BY id`)
	return collect(rows, err, func(r scanner) (service.LegacyCheckpoint, error) {
		var c service.LegacyCheckpoint
		var at sql.NullInt64
		err := r.Scan(&c.Seq, &c.AuditID, &c.Hash, &c.MAC, &at)
		c.At = timeOf(at)
		return c, err
	})
}
