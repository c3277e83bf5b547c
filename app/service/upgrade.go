package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// LegacyAuditHash is the chain of the first versions: plain SHA-256, which
// anyone with write access could recompute after an edit. It is kept to
// read such a chain and move it (UpgradeAuditChain).
func LegacyAuditHash(prev []byte, id int64, e AuditEntry) []byte {
	return chainHash(sha256.New(), prev, []int64{id}, e)
}

// keyedV1Hash is the single keyed chain of the version before chains:
// HMAC-SHA-256 under the secret, over the row's id. Kept to move it.
func (s *Service) keyedV1Hash(prev []byte, id int64, e AuditEntry) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("audit-chain\x00"))
	return chainHash(m, prev, []int64{id}, e)
}

// keyedV1CheckpointMAC signs a checkpoint of the single keyed chain.
func (s *Service) keyedV1CheckpointMAC(seq, id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%d:%x", seq, id, hash))
}

// legacyCheckpointMAC is the signature of the first versions' checkpoints,
// without a sequence number.
func (s *Service) legacyCheckpointMAC(id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%x", id, hash))
}

// UpgradeAuditChain moves the single chain of an older version (keyed, or
// the first versions' unkeyed SHA-256) into a chain of this version. Only
// the rows the migration to chains found (Tx.AuditUpgrade), only once
// (the first call ends the upgrade, whatever it finds), only in a log
// where no chain and no checkpoint of this version exist yet, and only if
// that chain and its checkpoints verify with no problem at all (rows past
// the last old checkpoint included: an older server stopped cleanly
// signed them). The move is audited, in the new chain, with the last old
// checkpoint's signature (the one the old logs show), and signed and
// sealed by a checkpoint at once. Any other old row stays where it is,
// for VerifyAuditLog to report: nothing written without the key is ever
// signed here. Only a program that serves calls it, never one that
// verifies (backend.Config.NoAuditUpgrade).
func (s *Service) UpgradeAuditChain(ctx context.Context) error {
	now := s.clock.Now()
	var moved int
	var refused string
	var c Checkpoint
	err := s.store.Update(ctx, func(tx Tx) error {
		moved, refused, c = 0, "", Checkpoint{}
		// Taken first: instances that start together upgrade once.
		last, err := tx.LastCheckpoint()
		if err != nil {
			return err
		}
		want, lastID, err := tx.AuditUpgrade()
		if err != nil || want == 0 {
			return err
		}
		// Whatever comes next, this is the only try.
		if err := tx.EndAuditUpgrade(); err != nil {
			return err
		}
		chains, err := tx.AuditChains()
		if err != nil {
			return err
		}
		if last.Seq != 0 || len(chains) != 0 {
			refused = "the log already has chains or checkpoints of this version"
			return nil
		}
		rows, err := legacyRows(tx)
		if err != nil {
			return err
		}
		if int64(len(rows)) != want || lastID0(rows) != lastID {
			refused = fmt.Sprintf("%d rows, the last %d, where the migration found %d, the last %d", len(rows), lastID0(rows), want, lastID)
			return nil
		}
		old, err := tx.LegacyCheckpoints()
		if err != nil {
			return err
		}
		v := s.legacyVerifier(rows)
		if problems := v.verify(rows, old, now.Add(-2*s.cfg.CheckpointEvery)); len(problems) > 0 {
			refused = problems[0].String()
			return nil
		}
		var lastOld int64
		var lastMAC []byte
		for _, c := range old {
			lastOld, lastMAC = max(lastOld, c.AuditID), c.MAC
		}
		if lastOld != lastID {
			// Rows no old checkpoint signed: their end may have been cut.
			refused = fmt.Sprintf("rows after %d are signed by no checkpoint of the older version", lastOld)
			return nil
		}
		id, err := s.newChainID()
		if err != nil {
			return err
		}
		if err := tx.StartAuditChain(AuditChain{ID: id, StartedAt: now, Origin: s.chains.origin + " (moved from the single chain)"}); err != nil {
			return err
		}
		var prev []byte
		for i := range rows {
			rows[i].Chain, rows[i].Seq, rows[i].PrevHash = id, rows[i].ID, prev
			rows[i].Hash = s.auditHash(rows[i])
			prev = rows[i].Hash
		}
		if err := tx.MoveAuditRows(rows); err != nil {
			return err
		}
		moved = len(rows)
		r := AuditRow{Chain: id, Seq: int64(len(rows)) + 1, PrevHash: prev, AuditEntry: AuditEntry{At: now, Actor: "system",
			Action: "audit.chain_moved", Detail: facts("moved", strconv.Itoa(moved), "from", v.name, "chain", chainName(id),
				"checkpoints", strconv.Itoa(len(old)), "last_mac", hex.EncodeToString(lastMAC))}}
		r.Hash = s.auditHash(r)
		if err := tx.AppendAudit(r); err != nil {
			return err
		}
		// Signed at once, and sealed: nobody writes to this chain again.
		c = Checkpoint{Seq: last.Seq + 1, At: now, Tails: []ChainTail{{Chain: id, Seq: r.Seq, Hash: r.Hash, Sealed: true}}}
		c.MAC = s.checkpointMAC(c, last.MAC)
		return tx.InsertCheckpoint(c)
	})
	if err != nil {
		return fmt.Errorf("audit chain upgrade: %w", err)
	}
	switch {
	case refused != "":
		s.log.ErrorContext(ctx, "the older version's audit chain does not verify: not moved to this version's chains, and never will be",
			"problem", refused)
	case moved > 0:
		s.chains.signed(c)
		s.log.WarnContext(ctx, "audit chain moved to this version's chains", "rows", moved)
		s.logCheckpoint(ctx, c)
	}
	return nil
}

func lastID0(rows []AuditRow) int64 {
	if len(rows) == 0 {
		return 0
	}
	return rows[len(rows)-1].ID
}

// legacyRows returns the rows of an older version's single chain.
func legacyRows(tx Tx) ([]AuditRow, error) {
	var rows []AuditRow
	err := tx.AuditRows(func(r AuditRow) error {
		if r.Chain != 0 {
			return errStop
		}
		rows = append(rows, r)
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return rows, err
}

var errStop = errors.New("stop")

// legacyVerifier checks an older version's single chain: keyed, or the
// first versions' unkeyed one, as its first row tells.
type legacyVerifier struct {
	name string
	hash func(prev []byte, id int64, e AuditEntry) []byte
	mac  func(c LegacyCheckpoint) []byte
}

func (s *Service) legacyVerifier(rows []AuditRow) legacyVerifier {
	keyed := legacyVerifier{name: "keyed", hash: s.keyedV1Hash,
		mac: func(c LegacyCheckpoint) []byte { return s.keyedV1CheckpointMAC(c.Seq, c.AuditID, c.Hash) }}
	if len(rows) > 0 && !bytes.Equal(rows[0].Hash, s.keyedV1Hash(rows[0].PrevHash, rows[0].ID, rows[0].AuditEntry)) &&
		bytes.Equal(rows[0].Hash, LegacyAuditHash(rows[0].PrevHash, rows[0].ID, rows[0].AuditEntry)) {
		return legacyVerifier{name: "unkeyed", hash: LegacyAuditHash,
			mac: func(c LegacyCheckpoint) []byte { return s.legacyCheckpointMAC(c.AuditID, c.Hash) }}
	}
	return keyed
}

// verify checks the single chain as the older version did: every row
// follows the one before, its hash matches, the checkpoints' sequence has
// no gap and each checkpoint's row is there with the hash it signed, and
// no row older than old is past the last checkpoint.
func (v legacyVerifier) verify(rows []AuditRow, cps []LegacyCheckpoint, old time.Time) []AuditProblem {
	var problems []AuditProblem
	add := func(id int64, kind, detail, cause string, n, m int64) {
		problems = append(problems, AuditProblem{Seq: id, Kind: kind, Detail: detail, Cause: cause, N: n, M: m})
	}
	hashes := map[int64][]byte{}
	var last, prevID, firstUnsigned, unsigned int64
	for _, c := range cps {
		last = max(last, c.AuditID)
	}
	var prevHash []byte
	for _, r := range rows {
		switch {
		case r.ID <= prevID:
			add(r.ID, "reordered", fmt.Sprintf("comes after row %d", prevID), "after", prevID, 0)
		case r.ID != prevID+1:
			add(r.ID, "deleted", fmt.Sprintf("rows %d to %d are missing", prevID+1, r.ID-1), "missing", prevID+1, r.ID-1)
		case !bytes.Equal(r.PrevHash, prevHash):
			add(r.ID, "reordered", fmt.Sprintf("does not follow row %d in the chain", prevID), "chain", prevID, 0)
		}
		if !bytes.Equal(v.hash(r.PrevHash, r.ID, r.AuditEntry), r.Hash) {
			add(r.ID, "altered", "its content does not match its hash", "hash", 0, 0)
		}
		hashes[r.ID] = r.Hash
		if r.ID > last && r.At.Before(old) {
			if unsigned == 0 {
				firstUnsigned = r.ID
			}
			unsigned++
		}
		prevID, prevHash = r.ID, r.Hash
	}
	var prevSeq int64
	for _, c := range cps {
		if c.Seq != prevSeq+1 {
			add(c.AuditID, "checkpoint", fmt.Sprintf("checkpoints %d to %d before this one are missing", prevSeq+1, c.Seq-1),
				"checkpoints_missing", prevSeq+1, c.Seq-1)
		}
		prevSeq = c.Seq
		switch h, ok := hashes[c.AuditID]; {
		case !hmac.Equal(c.MAC, v.mac(c)):
			add(c.AuditID, "checkpoint", "the checkpoint's signature is wrong", "signature", 0, 0)
		case !ok:
			add(c.AuditID, "deleted", "a signed checkpoint names this row, which is gone", "checkpoint_row_gone", 0, 0)
		case !bytes.Equal(h, c.Hash):
			add(c.AuditID, "altered", "the chain up to this row was rewritten since its signed checkpoint", "rewritten", 0, 0)
		}
	}
	if unsigned > 0 {
		add(firstUnsigned, "unsigned", fmt.Sprintf("%d rows from here are older than the checkpoint interval and covered by no checkpoint", unsigned),
			"unsigned", unsigned, 0)
	}
	return problems
}
