package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"consulvote/app/portal"
)

// The audit chain has one owner, this file: it defines the chain
// (AuditHash), computes it for every new row (audit), signs checkpoints
// and verifies the whole. The store keeps rows and checkpoints as given.

// AuditHash chains an entry to the previous one: SHA-256 over the previous
// hash and the entry's fields, each length-prefixed so that no two entries
// encode alike.
func AuditHash(prev []byte, id int64, e AuditEntry) []byte {
	h := sha256.New()
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

// audit appends e to the chain: the service alone computes the chain, and
// the store keeps the rows as given.
func (s *Service) audit(log AuditLog, e AuditEntry) error {
	id, prev, err := log.LastAudit()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	id++
	if err := log.AppendAudit(AuditRow{ID: id, AuditEntry: e, PrevHash: prev, Hash: AuditHash(prev, id, e)}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (s *Service) checkpointMAC(id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%x", id, hash))
}

// CheckpointAudit records a signed checkpoint at the newest audit row, if
// it moved since the last one. The server calls it periodically.
func (s *Service) CheckpointAudit(ctx context.Context) error {
	now := s.clock.Now()
	err := s.store.Update(ctx, func(tx Tx) error {
		id, hash, err := tx.LastAudit()
		if err != nil || id == 0 {
			return err
		}
		cps, err := tx.Checkpoints()
		if err != nil {
			return err
		}
		if n := len(cps); n > 0 && cps[n-1].AuditID == id {
			return nil
		}
		return tx.InsertCheckpoint(Checkpoint{AuditID: id, Hash: hash, MAC: s.checkpointMAC(id, hash), At: now})
	})
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	return nil
}

// AuditProblem is one place where the audit log was tampered with.
type AuditProblem struct {
	ID     int64  // the audit row where it shows
	Kind   string // "altered", "deleted", "reordered", "checkpoint"
	Detail string
}

func (p AuditProblem) String() string { return fmt.Sprintf("row %d: %s: %s", p.ID, p.Kind, p.Detail) }

// VerifyAuditLog walks the whole chain and the checkpoints and returns every
// problem found, and how many rows it checked.
func (s *Service) VerifyAuditLog(ctx context.Context) ([]AuditProblem, int, error) {
	var problems []AuditProblem
	hashes := map[int64][]byte{} // only at checkpoints
	var cps []Checkpoint
	rows := 0
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if cps, err = tx.Checkpoints(); err != nil {
			return err
		}
		at := map[int64]bool{}
		for _, c := range cps {
			at[c.AuditID] = true
		}
		var prevID int64
		var prevHash []byte
		err = tx.AuditRows(func(r AuditRow) error {
			rows++
			switch {
			case r.ID <= prevID:
				problems = append(problems, AuditProblem{r.ID, "reordered", fmt.Sprintf("comes after row %d", prevID)})
			case r.ID != prevID+1:
				problems = append(problems, AuditProblem{r.ID, "deleted", fmt.Sprintf("rows %d to %d are missing", prevID+1, r.ID-1)})
			case !bytes.Equal(r.PrevHash, prevHash):
				problems = append(problems, AuditProblem{r.ID, "reordered", fmt.Sprintf("does not follow row %d in the chain", prevID)})
			}
			if !bytes.Equal(AuditHash(r.PrevHash, r.ID, r.AuditEntry), r.Hash) {
				problems = append(problems, AuditProblem{r.ID, "altered", "its content does not match its hash"})
			}
			if at[r.ID] {
				hashes[r.ID] = r.Hash
			}
			prevID, prevHash = r.ID, r.Hash
			return nil
		})
		return err
	})
	if err != nil {
		return nil, rows, fmt.Errorf("verify audit: %w", err)
	}
	for _, c := range cps {
		switch h, ok := hashes[c.AuditID]; {
		case !hmac.Equal(c.MAC, s.checkpointMAC(c.AuditID, c.Hash)):
			problems = append(problems, AuditProblem{c.AuditID, "checkpoint", "the checkpoint's signature is wrong"})
		case !ok:
			problems = append(problems, AuditProblem{c.AuditID, "deleted", "a signed checkpoint names this row, which is gone"})
		case !bytes.Equal(h, c.Hash):
			problems = append(problems, AuditProblem{c.AuditID, "altered", "the chain up to this row was rewritten since its signed checkpoint"})
		}
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
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "audit.verified",
			Detail: fmt.Sprintf("%d rows, %d problems", rows, len(problems))})
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
			out = append(out, portal.HistoryEntry{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Detail})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}
