package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"
)

// checkpointMAC signs checkpoint c after the checkpoint whose MAC is prev:
// its number, time and every tail, so that the checkpoints form a chain
// of their own and the last one vouches for all.
func (s *Service) checkpointMAC(c Checkpoint, prev []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:%d:%x", c.Seq, c.At.UnixNano(), prev)
	for _, t := range c.Tails {
		fmt.Fprintf(&b, ";%d:%d:%x", t.Chain, t.Seq, t.Hash)
		if t.Sealed {
			b.WriteString(":sealed")
		}
	}
	return s.mac("audit-checkpoint/2", b.String())
}

// CheckpointAudit records a signed checkpoint of the tails of every chain
// not sealed that moved since a checkpoint last signed it, whichever
// service wrote them (so that a program that died has its last rows
// signed by the next), and writes its signature to the log too: a witness
// outside the database. The server calls it every Config.CheckpointEvery.
func (s *Service) CheckpointAudit(ctx context.Context) error {
	_, err := s.checkpoint(ctx, nil)
	return err
}

// signedState is what the checkpoints whose MAC verifies say of the
// chains: the newest tail of each they signed, and the chains they
// sealed; with the stored MACs of the checkpoints expected (by number).
type signedState struct {
	tails  map[int64]ChainTail
	sealed map[int64]bool
	macs   map[int64][]byte
}

// signedMemo is what the checkpoints numbered 1 to seq said, all read in
// a row and each verified under the key after the one before (whose MAC
// is mac): the signer reads only the newer ones (BenchmarkCheckpointGrowingLog).
//
// Why it is sound: a MAC that verifies binds its checkpoint's number,
// time, tails, seal bits and the MAC before it, so what those
// checkpoints said was said by the key's holder, whatever the database
// holds later; the signer uses it only to leave a sealed chain alone and
// not to sign a tail again, which is true of it still. The stored MAC of
// checkpoint seq equal to mac (checked at each use) means the database
// still holds the same history up to seq (each MAC binds the one before,
// so the chain of them) and no checkpoint of it replaced by another
// signed under its number, which a full reading could have trusted
// instead; if not equal, or gone, the signer reads everything again.
// Edits to the older rows no longer show to the signer, which trusts
// what it verified; VerifyAuditLog reads every checkpoint and reports
// them.
type signedMemo struct {
	mu     sync.Mutex
	seq    int64
	mac    []byte
	tails  map[int64]ChainTail
	sealed map[int64]bool
}

// apply adds what checkpoint c (verified) says to tails and sealed.
func apply(c Checkpoint, tails map[int64]ChainTail, sealed map[int64]bool) {
	for _, t := range c.Tails {
		if t.Seq > tails[t.Chain].Seq {
			tails[t.Chain] = t
		}
		sealed[t.Chain] = sealed[t.Chain] || t.Sealed
	}
}

// signedTails keeps what the checkpoints whose MAC verifies under the key
// (after the stored checkpoint before it) say: nothing stored without the
// key, a tail row or its sealed bit, decides what the next checkpoint
// signs. A checkpoint that does not verify counts for nothing here (its
// chains are signed again); VerifyAuditLog reports it. It starts from
// signedMemo when the database still holds its newest checkpoint, and
// reads the stored MACs of the checkpoints exp names.
func (s *Service) signedTails(tx Tx, exp map[int64][]byte) (signedState, error) {
	m := &s.signedMemo
	m.mu.Lock()
	seq, mac := m.seq, m.mac
	st := signedState{tails: maps.Clone(m.tails), sealed: maps.Clone(m.sealed), macs: map[int64][]byte{}}
	m.mu.Unlock()
	if seq != 0 {
		stored, err := tx.CheckpointMAC(seq)
		if err != nil {
			return signedState{}, err
		}
		if !hmac.Equal(stored, mac) {
			seq, mac = 0, nil
		}
	}
	if seq == 0 || st.tails == nil {
		seq, mac = 0, nil
		st.tails, st.sealed = map[int64]ChainTail{}, map[int64]bool{}
	}
	// The memo moves on along checkpoints read in a row, each verified.
	next := signedMemo{seq: seq, mac: mac, tails: maps.Clone(st.tails), sealed: maps.Clone(st.sealed)}
	inRow := true
	prevMAC := mac
	err := tx.CheckpointsAfter(seq, func(c Checkpoint) error {
		valid := hmac.Equal(c.MAC, s.checkpointMAC(c, prevMAC))
		if valid {
			apply(c, st.tails, st.sealed)
		}
		inRow = inRow && valid && c.Seq == next.seq+1
		if inRow {
			apply(c, next.tails, next.sealed)
			next.seq, next.mac = c.Seq, c.MAC
		}
		prevMAC = c.MAC
		return nil
	})
	if err != nil {
		return signedState{}, err
	}
	for n := range exp {
		mac, err := tx.CheckpointMAC(n)
		if err != nil {
			return signedState{}, err
		}
		if mac != nil {
			st.macs[n] = mac
		}
	}
	m.mu.Lock()
	if next.seq > m.seq || next.seq < m.seq && seq == 0 {
		m.seq, m.mac, m.tails, m.sealed = next.seq, next.mac, next.tails, next.sealed
	}
	m.mu.Unlock()
	return st, nil
}

// DefaultCheckpointWait bounds one checkpoint when Config.CheckpointWait
// is 0: its wait for the checkpoints' lock and its work.
const DefaultCheckpointWait = 30 * time.Second

// errRolledBack: the database no longer holds a checkpoint this service
// signed or was told of.
var errRolledBack = errors.New("the checkpoints were rolled back")

// checkpoint is CheckpointAudit; it also seals the chains given (their
// service closed them) whose tail in the database is the one the service
// committed, and the chains the service dropped two periods ago or more,
// at their tail as the database holds it, if not below the tail the
// service committed. It returns what it signed (Seq 0: nothing moved).
func (s *Service) checkpoint(ctx context.Context, closing []*chain) (Checkpoint, error) {
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
	known := map[int64]chain{} // the committed tails the service knows
	for _, ch := range closing {
		if ch.seq > 0 {
			known[ch.id] = *ch
		}
	}
	dropped := s.chains.droppedBefore(now.Add(-2 * s.cfg.CheckpointEvery))
	for id, ch := range dropped {
		known[id] = ch
	}
	// The chains in use: the database holds each at least up to the tail
	// the service committed, unless someone cut it.
	live := s.chains.idleTails()
	for id := range known {
		delete(live, id)
	}
	exp := s.chains.expectations()
	var c Checkpoint
	var cut []AuditProblem
	err := s.store.Update(ctx, func(tx Tx) error {
		c, cut = Checkpoint{}, nil
		last, err := tx.LastCheckpoint()
		if err != nil {
			return err
		}
		st, err := s.signedTails(tx, exp)
		if err != nil {
			return err
		}
		if seqs := s.chains.rollbacks(exp, st.macs); len(seqs) > 0 {
			return fmt.Errorf("checkpoints %v, which this service signed or was told of, are gone or replaced: %w; "+
				"not signing over them until a restart", seqs, errRolledBack)
		}
		ids, err := tx.AuditChains()
		if err != nil {
			return err
		}
		var tails []ChainTail
		for _, id := range ids {
			if st.sealed[id] {
				continue
			}
			seq, hash, err := tx.AuditTail(id)
			if err != nil {
				return err
			}
			k, isKnown := known[id]
			l, isLive := live[id]
			if isLive {
				k = l
			}
			if (isKnown || isLive) && (seq < k.seq || seq == k.seq && !bytes.Equal(hash, k.hash)) {
				// Rows this service committed are gone: signing or
				// sealing the chain here would make the cut for good.
				cut = append(cut, AuditProblem{Chain: id, Seq: seq + 1, Kind: "deleted", Detail: fmt.Sprintf(
					"this service committed the chain up to row %d, and the database holds it up to row %d: not signed", k.seq, seq),
					Cause: "committed_rows_gone", N: seq + 1, M: k.seq})
				continue
			}
			_, isDropped := dropped[id]
			sealed := isKnown && (isDropped || seq == k.seq)
			if seq > st.tails[id].Seq || sealed {
				tails = append(tails, ChainTail{Chain: id, Seq: seq, Hash: hash, Sealed: sealed})
			}
		}
		// A chain this service committed rows to that is not even
		// registered any more was cut whole, with its registration.
		registered := make(map[int64]bool, len(ids))
		for _, id := range ids {
			registered[id] = true
		}
		for id, k := range merge(known, live) {
			if k.seq > 0 && !registered[id] {
				cut = append(cut, AuditProblem{Chain: id, Seq: 1, Kind: "deleted", Detail: fmt.Sprintf(
					"this service committed the chain up to row %d, and the database holds neither its rows nor the chain", k.seq),
					Cause: "committed_rows_gone", N: 1, M: k.seq})
			}
		}
		if len(tails) == 0 {
			return nil
		}
		c = Checkpoint{Seq: last.Seq + 1, At: now, Tails: tails}
		c.MAC = s.checkpointMAC(c, last.MAC)
		return tx.InsertCheckpoint(c)
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	var retired []int64
	for _, p := range cut {
		s.log.ErrorContext(ctx, "audit chain cut: rows this service committed are gone, the chain is left unsigned", "chain", chainName(p.Chain),
			"committed", p.M, "held", p.N-1)
		s.chains.chainCut(p)
		if _, ok := live[p.Chain]; ok {
			retired = append(retired, p.Chain)
		}
	}
	s.chains.retire(retired)
	// Sealed now, or before, or never registered (rolled back), or cut: done.
	s.chains.forget(dropped)
	if c.Seq != 0 {
		s.chains.signed(c)
		s.logCheckpoint(ctx, c)
	}
	return c, nil
}

// merge is a and b in one map (b's entry when both have one).
func merge(a, b map[int64]chain) map[int64]chain {
	m := make(map[int64]chain, len(a)+len(b))
	for id, c := range a {
		m[id] = c
	}
	for id, c := range b {
		m[id] = c
	}
	return m
}

// logCheckpoint writes a checkpoint to the log: whoever keeps the logs can
// tell, with the key, whether the database still holds what it signed.
func (s *Service) logCheckpoint(ctx context.Context, c Checkpoint) {
	tails := make([]string, len(c.Tails))
	for i, t := range c.Tails {
		tails[i] = fmt.Sprintf("%s:%d:%x", chainName(t.Chain), t.Seq, t.Hash)
		if t.Sealed {
			tails[i] += ":sealed"
		}
	}
	s.log.InfoContext(ctx, "audit checkpoint", "seq", c.Seq, "at", c.At.UnixNano(),
		"tails", strings.Join(tails, " "), "mac", hex.EncodeToString(c.MAC))
}

// FinishAudit is the last thing a program that audited does: it signs a
// checkpoint that also seals the service's chains, so that later
// checkpoints no longer look at them and a row added to them shows. Rows
// audited after it go to new chains.
func (s *Service) FinishAudit(ctx context.Context) error {
	_, err := s.checkpoint(ctx, s.chains.close())
	return err
}
