package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"fmt"
	"slices"
	"strconv"

	"consulvote/app/portal"
)

// AuditProblem is one place where the audit log was tampered with.
type AuditProblem struct {
	// Chain and Seq name the row where it shows (Chain 0: the older
	// version's single chain, Seq its row id); Checkpoint the checkpoint,
	// for a problem of the checkpoints themselves.
	Chain, Seq, Checkpoint int64
	Kind                   string // "altered", "deleted", "reordered", "added" (after a sealed end), "checkpoint", "unsigned", "not moved"
	Detail                 string
	// Cause is the problem as a code (one of portal.AuditCauses), N and M
	// its numbers: for a screen to say it in the agent's language.
	Cause string
	N, M  int64
}

func (p AuditProblem) String() string {
	switch {
	case p.Checkpoint != 0:
		return fmt.Sprintf("checkpoint %d: %s: %s", p.Checkpoint, p.Kind, p.Detail)
	case p.Chain == 0:
		return fmt.Sprintf("row %d of the older single chain: %s: %s", p.Seq, p.Kind, p.Detail)
	}
	return fmt.Sprintf("chain %s, row %d: %s: %s", chainName(p.Chain), p.Seq, p.Kind, p.Detail)
}

// ExpectCheckpoint tells the service of a checkpoint signed before, as the
// server's log shows it (call it for every one): VerifyAuditLog reports
// the log rolled back if the database no longer holds it, signed so, and
// the service signs nothing over such a log. (The service remembers the
// newest checkpoint it signed itself.)
func (s *Service) ExpectCheckpoint(seq int64, mac []byte) {
	s.chains.expectCheckpoint(seq, mac)
}

// VerifyAuditLog walks every chain and the checkpoints and returns every
// problem found, and how many rows it checked. Beyond a row that does not
// match its keyed hash or does not follow the row before it in its
// chain, it finds checkpoints missing from their sequence or not signed
// under the key, a chain's rows gone up to a tail a checkpoint signed
// (the whole chain, or its end), and rows older than the checkpoint
// interval (Config.CheckpointEvery, twice, for slack) that no checkpoint
// covers: so deleting checkpoints shows, whatever was done to the rows.
// What it cannot see: the work of someone holding the key file, and the
// rows written since the last checkpoint (and, so, a chain started since).
func (s *Service) VerifyAuditLog(ctx context.Context) ([]AuditProblem, int, error) {
	var problems []AuditProblem
	rows := 0
	old := s.clock.Now().Add(-2 * s.cfg.CheckpointEvery)
	exp := s.chains.expectations()
	err := s.store.View(ctx, func(tx Tx) error {
		problems, rows = nil, 0
		// The checkpoints first: their own chain, and the newest tail each
		// signed, with the checkpoint that signed it.
		type signed struct {
			ChainTail
			by int64
		}
		tails := map[int64]signed{}
		seals := map[int64]signed{} // the tail where a checkpoint sealed the chain
		macs := map[int64][]byte{}
		var prevSeq int64
		var prevMAC []byte
		err := tx.Checkpoints(func(c Checkpoint) error {
			macs[c.Seq] = c.MAC
			switch {
			case c.Seq != prevSeq+1:
				problems = append(problems, AuditProblem{Checkpoint: c.Seq, Kind: "checkpoint",
					Detail: fmt.Sprintf("checkpoints %d to %d before this one are missing", prevSeq+1, c.Seq-1),
					Cause:  "checkpoint_gap", N: prevSeq + 1, M: c.Seq - 1})
			case !hmac.Equal(c.MAC, s.checkpointMAC(c, prevMAC)):
				problems = append(problems, AuditProblem{Checkpoint: c.Seq, Kind: "checkpoint",
					Detail: "the checkpoint's signature is wrong", Cause: "checkpoint_signature"})
			default:
				for _, t := range c.Tails {
					if t.Seq > tails[t.Chain].Seq {
						tails[t.Chain] = signed{t, c.Seq}
					}
					if _, ok := seals[t.Chain]; t.Sealed && !ok {
						seals[t.Chain] = signed{t, c.Seq}
					}
				}
			}
			prevSeq, prevMAC = c.Seq, c.MAC
			return nil
		})
		if err != nil {
			return err
		}
		for _, seq := range s.chains.rollbacks(exp, macs) {
			problems = append(problems, AuditProblem{Checkpoint: seq, Kind: "checkpoint", Detail: fmt.Sprintf(
				"this service signed it, or was told of it, and the database no longer holds it (its checkpoints end at %d), "+
					"or holds another under its number, now or when the service last looked: the checkpoints were rolled back", prevSeq),
				Cause: "checkpoint_rolled_back"})
		}
		problems = append(problems, s.chains.cutChains()...)
		var legacy []AuditRow
		var cur int64 // the chain being read
		var prevSeqIn, firstUnsigned, unsigned, firstAfter, after int64
		var prevHash []byte
		endChain := func() {
			if cur == 0 {
				return
			}
			if t, ok := tails[cur]; ok && prevSeqIn < t.Seq {
				problems = append(problems, AuditProblem{Chain: cur, Seq: prevSeqIn + 1, Kind: "deleted",
					Detail: fmt.Sprintf("rows %d to %d, which checkpoint %d signed, are gone", prevSeqIn+1, t.Seq, t.by),
					Cause:  "signed_rows_gone", N: prevSeqIn + 1, M: t.Seq})
			}
			if unsigned > 0 {
				problems = append(problems, AuditProblem{Chain: cur, Seq: firstUnsigned, Kind: "unsigned", Detail: fmt.Sprintf(
					"%d rows from here are older than the checkpoint interval and covered by no checkpoint (checkpoints deleted, or the program stopped without signing)", unsigned),
					Cause: "unsigned", N: unsigned})
			}
			if after > 0 {
				seal := seals[cur]
				problems = append(problems, AuditProblem{Chain: cur, Seq: firstAfter, Kind: "added", Detail: fmt.Sprintf(
					"%d rows from here come after the chain's end, which checkpoint %d sealed at row %d", after, seal.by, seal.Seq),
					Cause: "after_seal", N: after, M: seal.by})
			}
			delete(tails, cur)
		}
		err = tx.AuditRows(func(r AuditRow) error {
			rows++
			if r.Chain == 0 {
				legacy = append(legacy, r)
				return nil
			}
			if r.Chain != cur {
				endChain()
				cur, prevSeqIn, prevHash, firstUnsigned, unsigned, firstAfter, after = r.Chain, 0, nil, 0, 0, 0, 0
			}
			add := func(kind, detail, cause string, n, m int64) {
				problems = append(problems, AuditProblem{Chain: r.Chain, Seq: r.Seq, Kind: kind, Detail: detail, Cause: cause, N: n, M: m})
			}
			switch {
			case r.Seq <= prevSeqIn:
				add("reordered", fmt.Sprintf("comes after row %d", prevSeqIn), "after", prevSeqIn, 0)
			case r.Seq != prevSeqIn+1:
				add("deleted", fmt.Sprintf("rows %d to %d are missing", prevSeqIn+1, r.Seq-1), "missing", prevSeqIn+1, r.Seq-1)
			case !bytes.Equal(r.PrevHash, prevHash):
				add("reordered", fmt.Sprintf("does not follow row %d of its chain", prevSeqIn), "chain", prevSeqIn, 0)
			}
			if !bytes.Equal(s.auditHash(r), r.Hash) {
				add("altered", "its content does not match its hash", "hash", 0, 0)
			}
			t := tails[r.Chain]
			if r.Seq == t.Seq && !bytes.Equal(r.Hash, t.Hash) {
				add("altered", fmt.Sprintf("the chain up to this row was rewritten since checkpoint %d signed it", t.by), "rewritten", t.by, 0)
			}
			if seal, ok := seals[r.Chain]; ok && r.Seq > seal.Seq {
				if after == 0 {
					firstAfter = r.Seq
				}
				after++
			} else if r.Seq > t.Seq && r.At.Before(old) {
				if unsigned == 0 {
					firstUnsigned = r.Seq
				}
				unsigned++
			}
			prevSeqIn, prevHash = max(prevSeqIn, r.Seq), r.Hash
			return nil
		})
		if err != nil {
			return err
		}
		endChain()
		// Chains a checkpoint names, with no row left.
		var gone []int64
		for id := range tails {
			gone = append(gone, id)
		}
		slices.Sort(gone)
		for _, id := range gone {
			t := tails[id]
			problems = append(problems, AuditProblem{Chain: id, Seq: 1, Kind: "deleted",
				Detail: fmt.Sprintf("the whole chain is gone: checkpoint %d signed its rows up to %d", t.by, t.Seq),
				Cause:  "chain_gone", N: t.Seq, M: t.by})
		}
		if len(legacy) > 0 {
			cps, err := tx.LegacyCheckpoints()
			if err != nil {
				return err
			}
			want, lastID, err := tx.AuditUpgrade()
			if err != nil {
				return err
			}
			// Rows the next start of a server will try to move (the
			// migration's, in a log with nothing of this version yet) are
			// checked as the older version did; any other old row is a
			// finding.
			pending := want == int64(len(legacy)) && lastID == legacy[len(legacy)-1].ID && cur == 0 && prevSeq == 0
			v := s.legacyVerifier(legacy)
			if !pending {
				problems = append(problems, AuditProblem{Seq: legacy[0].ID, Kind: "not moved", Detail: fmt.Sprintf(
					"%d rows of an older version's single chain are in no chain of this version: the upgrade refused them, or they were written after it", len(legacy)),
					Cause: "not_moved", N: int64(len(legacy))})
			}
			problems = append(problems, v.verify(legacy, cps, old)...)
		}
		return nil
	})
	if err != nil {
		return nil, rows, fmt.Errorf("verify audit: %w", err)
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
		f := portal.AuditFinding{Row: p.Seq, Checkpoint: p.Checkpoint, Cause: p.Cause, N: p.N, M: p.M}
		if p.Chain != 0 {
			f.Chain = chainName(p.Chain)
		}
		r.Findings = append(r.Findings, f)
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		return s.audit(tx, AuditEntry{At: now, Actor: agentActor(a), Action: "audit.verified",
			Detail: facts("rows", strconv.Itoa(rows), "problems", strconv.Itoa(len(problems)))})
	})
	return r, err
}
