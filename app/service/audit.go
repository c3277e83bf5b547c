package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"consulvote/app/portal"
)

// The audit chain has one owner, this file: it defines the chain
// (AuditHash), computes it for every new row (audit), signs checkpoints
// and verifies the whole. The store keeps rows and checkpoints as given.

// chainHash writes the fields of the row id holding e, after the previous
// row's hash, into h, each length-prefixed so that no two rows encode
// alike, and returns the sum.
func chainHash(h hash.Hash, prev []byte, id int64, e AuditEntry) []byte {
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	num := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		field(n[:])
	}
	field(prev)
	num(id)
	num(e.At.UnixNano())
	field([]byte(e.Actor))
	field([]byte(e.Action))
	num(e.VoterID)
	field([]byte(e.Detail))
	return h.Sum(nil)
}

// LegacyAuditHash is the chain of older versions: plain SHA-256, which
// anyone with write access could recompute after an edit. It is kept to
// read such a chain and move it to the keyed one (UpgradeAuditChain).
func LegacyAuditHash(prev []byte, id int64, e AuditEntry) []byte {
	return chainHash(sha256.New(), prev, id, e)
}

// auditHash is the chain: HMAC-SHA-256 under the secret key, so that
// nobody without the key file can chain an edited log again.
func (s *Service) auditHash(prev []byte, id int64, e AuditEntry) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("audit-chain\x00"))
	return chainHash(m, prev, id, e)
}

// audit appends e to the chain: the service alone computes the chain, and
// the store keeps the rows as given.
func (s *Service) audit(log AuditLog, e AuditEntry) error {
	id, prev, err := log.LastAudit()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	id++
	if err := log.AppendAudit(AuditRow{ID: id, AuditEntry: e, PrevHash: prev, Hash: s.auditHash(prev, id, e)}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	s.audited.Store(true)
	return nil
}

// Audited reports whether this service wrote to the audit log (maybe in a
// transaction rolled back since): a program that did should sign a
// checkpoint before it ends.
func (s *Service) Audited() bool { return s.audited.Load() }

// checkpointMAC signs checkpoint seq at row id with the chain's hash there.
func (s *Service) checkpointMAC(seq, id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%d:%x", seq, id, hash))
}

// legacyCheckpointMAC is the signature of older versions' checkpoints,
// without a sequence number.
func (s *Service) legacyCheckpointMAC(id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%x", id, hash))
}

// CheckpointAudit records a signed checkpoint at the newest audit row, if
// it moved since the last one, and writes its signature to the log too: a
// witness outside the database. The server calls it every
// Config.CheckpointEvery.
func (s *Service) CheckpointAudit(ctx context.Context) error {
	now := s.clock.Now()
	var c Checkpoint
	err := s.store.Update(ctx, func(tx Tx) error {
		id, hash, err := tx.LastAudit()
		if err != nil || id == 0 {
			return err
		}
		cps, err := tx.Checkpoints()
		if err != nil {
			return err
		}
		var seq int64 = 1
		if n := len(cps); n > 0 {
			if cps[n-1].AuditID == id {
				return nil
			}
			seq = cps[n-1].Seq + 1
		}
		c = Checkpoint{Seq: seq, AuditID: id, Hash: hash, MAC: s.checkpointMAC(seq, id, hash), At: now}
		return tx.InsertCheckpoint(c)
	})
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	if c.Seq != 0 {
		s.log.InfoContext(ctx, "audit checkpoint", "seq", c.Seq, "row", c.AuditID,
			"hash", hex.EncodeToString(c.Hash), "mac", hex.EncodeToString(c.MAC))
	}
	return nil
}

// UpgradeAuditChain moves a chain made by an older version (unkeyed
// SHA-256, checkpoints without sequence) to the keyed chain, once, when
// the service first opens it: only if that chain and its checkpoints
// verify intact; the move is audited with how many rows no checkpoint
// covered before it. A keyed or empty chain is left alone; a chain that
// is neither keyed nor intact is left for VerifyAuditLog to report.
func (s *Service) UpgradeAuditChain(ctx context.Context) error {
	now := s.clock.Now()
	var moved, unsigned int
	err := s.store.Update(ctx, func(tx Tx) error {
		var rows []AuditRow
		if err := tx.AuditRows(func(r AuditRow) error { rows = append(rows, r); return nil }); err != nil {
			return err
		}
		if len(rows) == 0 || bytes.Equal(rows[0].Hash, s.auditHash(rows[0].PrevHash, rows[0].ID, rows[0].AuditEntry)) {
			return nil
		}
		var prev []byte
		legacy := map[int64][]byte{}
		for i, r := range rows {
			if r.ID != int64(i+1) || !bytes.Equal(r.PrevHash, prev) || !bytes.Equal(r.Hash, LegacyAuditHash(prev, r.ID, r.AuditEntry)) {
				s.log.ErrorContext(ctx, "audit chain neither keyed nor intact: not moved to the keyed chain", "row", r.ID)
				return nil
			}
			legacy[r.ID], prev = r.Hash, r.Hash
		}
		old, err := tx.Checkpoints()
		if err != nil {
			return err
		}
		var last int64
		for _, c := range old {
			if !hmac.Equal(c.MAC, s.legacyCheckpointMAC(c.AuditID, c.Hash)) || !bytes.Equal(legacy[c.AuditID], c.Hash) {
				s.log.ErrorContext(ctx, "audit checkpoint does not verify: chain not moved to the keyed chain", "row", c.AuditID)
				return nil
			}
			last = max(last, c.AuditID)
		}
		keyed := map[int64][]byte{}
		prev = nil
		for i := range rows {
			rows[i].PrevHash = prev
			rows[i].Hash = s.auditHash(prev, rows[i].ID, rows[i].AuditEntry)
			keyed[rows[i].ID], prev = rows[i].Hash, rows[i].Hash
		}
		cps := make([]Checkpoint, len(old))
		for i, c := range old {
			seq := int64(i + 1)
			cps[i] = Checkpoint{Seq: seq, AuditID: c.AuditID, Hash: keyed[c.AuditID], MAC: s.checkpointMAC(seq, c.AuditID, keyed[c.AuditID]), At: c.At}
		}
		if err := tx.RechainAudit(rows, cps); err != nil {
			return err
		}
		moved, unsigned = len(rows), len(rows)-int(last)
		return s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "audit.chain_keyed",
			Detail: facts("moved", strconv.Itoa(moved), "unsigned", strconv.Itoa(unsigned))})
	})
	if err != nil {
		return fmt.Errorf("audit chain upgrade: %w", err)
	}
	if moved > 0 {
		s.log.WarnContext(ctx, "audit chain moved to the keyed chain", "rows", moved, "unsigned_before", unsigned)
	}
	return nil
}

// AuditProblem is one place where the audit log was tampered with.
type AuditProblem struct {
	ID     int64  // the audit row where it shows
	Kind   string // "altered", "deleted", "reordered", "checkpoint", "unsigned"
	Detail string
	// Cause is the problem as a code (portal.AuditFinding), N and M its
	// numbers: for a screen to say it in the agent's language.
	Cause string
	N, M  int64
}

func (p AuditProblem) String() string { return fmt.Sprintf("row %d: %s: %s", p.ID, p.Kind, p.Detail) }

// VerifyAuditLog walks the whole chain and the checkpoints and returns every
// problem found, and how many rows it checked. Beyond a row that does not
// match its keyed hash, it finds checkpoints missing from their sequence,
// and rows older than the checkpoint interval (Config.CheckpointEvery,
// twice, for slack) that no checkpoint covers: so deleting the
// checkpoints shows, whatever was done to the rows. What it cannot see:
// the work of someone holding the key file, and edits to the rows written
// since the last checkpoint.
func (s *Service) VerifyAuditLog(ctx context.Context) ([]AuditProblem, int, error) {
	var problems []AuditProblem
	hashes := map[int64][]byte{} // only at checkpoints
	var cps []Checkpoint
	rows := 0
	var last int64 // the last checkpoint's row
	var firstUnsigned, unsigned int64
	old := s.clock.Now().Add(-2 * s.cfg.CheckpointEvery)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if cps, err = tx.Checkpoints(); err != nil {
			return err
		}
		at := map[int64]bool{}
		for _, c := range cps {
			at[c.AuditID] = true
			last = max(last, c.AuditID)
		}
		var prevID int64
		var prevHash []byte
		err = tx.AuditRows(func(r AuditRow) error {
			rows++
			switch {
			case r.ID <= prevID:
				problems = append(problems, AuditProblem{r.ID, "reordered", fmt.Sprintf("comes after row %d", prevID), "after", prevID, 0})
			case r.ID != prevID+1:
				problems = append(problems, AuditProblem{r.ID, "deleted", fmt.Sprintf("rows %d to %d are missing", prevID+1, r.ID-1), "missing", prevID + 1, r.ID - 1})
			case !bytes.Equal(r.PrevHash, prevHash):
				problems = append(problems, AuditProblem{r.ID, "reordered", fmt.Sprintf("does not follow row %d in the chain", prevID), "chain", prevID, 0})
			}
			if !bytes.Equal(s.auditHash(r.PrevHash, r.ID, r.AuditEntry), r.Hash) {
				problems = append(problems, AuditProblem{r.ID, "altered", "its content does not match its hash", "hash", 0, 0})
			}
			if at[r.ID] {
				hashes[r.ID] = r.Hash
			}
			if r.ID > last && r.At.Before(old) {
				if unsigned == 0 {
					firstUnsigned = r.ID
				}
				unsigned++
			}
			prevID, prevHash = r.ID, r.Hash
			return nil
		})
		return err
	})
	if err != nil {
		return nil, rows, fmt.Errorf("verify audit: %w", err)
	}
	var prevSeq int64
	for _, c := range cps {
		if c.Seq != prevSeq+1 {
			problems = append(problems, AuditProblem{c.AuditID, "checkpoint",
				fmt.Sprintf("checkpoints %d to %d before this one are missing", prevSeq+1, c.Seq-1), "checkpoints_missing", prevSeq + 1, c.Seq - 1})
		}
		prevSeq = c.Seq
		switch h, ok := hashes[c.AuditID]; {
		case !hmac.Equal(c.MAC, s.checkpointMAC(c.Seq, c.AuditID, c.Hash)):
			problems = append(problems, AuditProblem{c.AuditID, "checkpoint", "the checkpoint's signature is wrong", "signature", 0, 0})
		case !ok:
			problems = append(problems, AuditProblem{c.AuditID, "deleted", "a signed checkpoint names this row, which is gone", "checkpoint_row_gone", 0, 0})
		case !bytes.Equal(h, c.Hash):
			problems = append(problems, AuditProblem{c.AuditID, "altered", "the chain up to this row was rewritten since its signed checkpoint", "rewritten", 0, 0})
		}
	}
	if unsigned > 0 {
		problems = append(problems, AuditProblem{firstUnsigned, "unsigned", fmt.Sprintf(
			"%d rows from here are older than the checkpoint interval and covered by no checkpoint (checkpoints deleted, or the program stopped without signing)", unsigned),
			"unsigned", unsigned, 0})
	}
	return problems, rows, nil
}

// VerifyAudit implements portal.Office (admin).
func (s *Service) VerifyAudit(ctx context.Context, token string) (portal.AuditReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return portal.AuditReport{}, err
	}
	problems, rows, err := s.VerifyAuditLog(ctx)
	if err != nil {
		return portal.AuditReport{}, err
	}
	r := portal.AuditReport{Rows: rows}
	for _, p := range problems {
		r.Problems = append(r.Problems, p.String())
		r.Findings = append(r.Findings, portal.AuditFinding{Row: p.ID, Cause: p.Cause, N: p.N, M: p.M})
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "audit.verified",
			Detail: facts("rows", strconv.Itoa(rows), "problems", strconv.Itoa(len(problems)))})
	})
	return r, err
}

// AuditEntries implements portal.Office (admin).
func (s *Service) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
	if _, err := s.agent(ctx, token, portal.RoleAdmin); err != nil {
		return nil, err
	}
	var out []portal.HistoryEntry
	err := s.store.View(ctx, func(tx Tx) error {
		var voterID int64
		if n := portal.NormalizeNUMIC(f.NUMIC); n != "" {
			v, err := tx.VoterByNUMIC(n)
			if errors.Is(err, ErrNotFound) {
				return nil // no such voter: no entry
			}
			if err != nil {
				return err
			}
			voterID = v.ID
		}
		es, err := tx.AuditSearch(strings.TrimSpace(f.Actor), strings.TrimSpace(f.Action), voterID, 200)
		for _, e := range es {
			out = append(out, historyEntry(e))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}
