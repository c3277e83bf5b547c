package service

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"consulvote/app/audit"
	"consulvote/app/portal"
)

// The audit log is app/audit's: rows sealed under the key when written,
// checkpoints that sign what committed since the last one. The service
// writes rows in its transactions (audit), signs checkpoints
// (CheckpointAudit) and verifies (VerifyAuditLog); it keeps nothing of it
// in memory.

// audit writes e in the transaction tx, sealed under the key.
func (s *core) audit(log AuditLog, e AuditEntry) error {
	if err := audit.Append(log, s.cfg.Secret, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	s.audited.Store(true)
	return nil
}

// Audited reports whether this service wrote to the audit log (maybe in a
// transaction rolled back since): a program that did should sign a
// checkpoint before it ends.
func (s *Operator) Audited() bool { return s.audited.Load() }

// DefaultCheckpointWait bounds one checkpoint when Config.CheckpointWait
// is 0: its wait for the checkpoints' lock and its work.
const DefaultCheckpointWait = 30 * time.Second

// CheckpointAudit signs a checkpoint of the rows no checkpoint signed yet,
// whoever wrote them, and writes it to the log too: the witness outside
// the database that audit verify --checkpoints-from reads. The server
// calls it every Config.CheckpointEvery, and a command that audited when
// it ends.
func (s *Operator) CheckpointAudit(ctx context.Context) error {
	_, err := s.checkpoint(ctx)
	return err
}

// checkpoint is CheckpointAudit; it returns what it signed (Seq 0:
// nothing waited).
func (s *core) checkpoint(ctx context.Context) (audit.Checkpoint, error) {
	// Bounded: a checkpoint that waits (for a lock another session of the
	// database holds, say) fails, and the failure shows, instead of
	// stopping the server's checkpoints and its stop for good.
	wait := s.cfg.CheckpointWait
	if wait <= 0 {
		wait = DefaultCheckpointWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	now := s.clock.Now()
	var c audit.Checkpoint
	err := s.store.Update(ctx, func(tx Tx) (err error) {
		c, err = audit.Sign(tx, s.cfg.Secret, now)
		return err
	})
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	if c.Seq != 0 {
		s.log.InfoContext(ctx, "audit checkpoint", "seq", c.Seq, "at", c.At.UnixNano(), "rows", c.Rows,
			"mac", hex.EncodeToString(c.MAC))
	}
	return c, nil
}

// VerifyAuditLog reads the whole log and returns every problem found, and
// how many rows it read. Rows older than two checkpoint periods that no
// checkpoint signed are a problem; each of logged (a checkpoint's Seq and
// MAC, as a server's or command's log shows it) must be in the database
// as signed there, or the log was rolled back.
func (s *Operator) VerifyAuditLog(ctx context.Context, logged ...audit.Checkpoint) ([]audit.Problem, int, error) {
	return s.verifyAuditLog(ctx, logged...)
}

// verifyAuditLog is VerifyAuditLog, for the operator and the admin's
// VerifyAudit.
func (s *core) verifyAuditLog(ctx context.Context, logged ...audit.Checkpoint) ([]audit.Problem, int, error) {
	old := s.clock.Now().Add(-2 * s.cfg.CheckpointEvery)
	var problems []audit.Problem
	rows := 0
	err := s.store.View(ctx, func(tx Tx) (err error) {
		problems, rows, err = audit.Verify(tx, s.cfg.Secret, old, logged)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("verify audit: %w", err)
	}
	return problems, rows, nil
}

// VerifyAudit implements portal.Office (admin).
func (s *Office) VerifyAudit(ctx context.Context, token string) (portal.AuditReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return portal.AuditReport{}, err
	}
	problems, rows, err := s.verifyAuditLog(ctx)
	if err != nil {
		return portal.AuditReport{}, err
	}
	r := portal.AuditReport{Rows: rows}
	for _, p := range problems {
		r.Problems = append(r.Problems, p.String())
		r.Findings = append(r.Findings, portal.AuditFinding{Row: p.Row, Checkpoint: p.Checkpoint, Cause: p.Cause, N: p.N, M: p.M})
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "audit.verified",
			Detail: facts("rows", strconv.Itoa(rows), "problems", strconv.Itoa(len(problems)))})
	})
	return r, err
}

// AuditEntries implements portal.Office (admin).
func (s *Office) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out []portal.HistoryEntry
	err = s.store.View(ctx, func(tx Tx) error {
		var voterID int64
		if n := portal.NormalizeNUMIC(f.NUMIC); n != "" {
			v, err := tx.VoterByNUMIC(n)
			if err == nil && !a.Scope.Sees(v.Circonscription) {
				err = ErrNotFound
			}
			if errors.Is(err, ErrNotFound) {
				return nil // no such voter: no entry
			}
			if err != nil {
				return err
			}
			voterID = v.ID
		}
		es, err := tx.AuditSearch(strings.TrimSpace(f.Actor), strings.TrimSpace(f.Action), voterID, 200)
		if err != nil {
			return err
		}
		for _, e := range es {
			if ok, err := seesVoter(tx, a, e.VoterID); err != nil {
				return err
			} else if ok {
				out = append(out, historyEntry(e))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return out, nil
}
