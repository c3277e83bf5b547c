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
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"consulvote/app/portal"
)

// The audit chains have one owner, this file (with chains.go): it
// defines the chains, computes them for every new row (audit), signs
// checkpoints and verifies the whole. The store keeps rows and
// checkpoints as given.

// chainHash writes, into h, the previous row's hash, the row's place and
// its entry, each length-prefixed so that no two rows encode alike, and
// returns the sum.
func chainHash(h hash.Hash, prev []byte, place []int64, e AuditEntry) []byte {
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
	for _, p := range place {
		num(p)
	}
	num(e.At.UnixNano())
	field([]byte(e.Actor))
	field([]byte(e.Action))
	num(e.VoterID)
	field([]byte(e.Detail))
	return h.Sum(nil)
}

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

// auditHash is the chains' hash: HMAC-SHA-256 under the secret key, so
// that nobody without the key file can chain an edited log again, over
// the row's chain and place in it.
func (s *Service) auditHash(r AuditRow) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("audit-chain/2\x00"))
	return chainHash(m, r.PrevHash, []int64{r.Chain, r.Seq}, r.AuditEntry)
}

// audit appends e to the chain the transaction holds (chains.go): the
// service alone computes the chains, and the store keeps the rows as
// given. It may come anywhere in the transaction.
func (s *Service) audit(log AuditLog, e AuditEntry) error {
	t, ok := log.(*chainTx)
	if !ok {
		return fmt.Errorf("audit: %w", errNoChain)
	}
	if err := t.append(e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	s.audited.Store(true)
	return nil
}

// Audited reports whether this service wrote to the audit log (maybe in a
// transaction rolled back since): a program that did should sign a
// checkpoint before it ends (FinishAudit).
func (s *Service) Audited() bool { return s.audited.Load() }

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

// keyedV1CheckpointMAC signs a checkpoint of the single keyed chain.
func (s *Service) keyedV1CheckpointMAC(seq, id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%d:%x", seq, id, hash))
}

// legacyCheckpointMAC is the signature of the first versions' checkpoints,
// without a sequence number.
func (s *Service) legacyCheckpointMAC(id int64, hash []byte) []byte {
	return s.mac("audit-checkpoint", fmt.Sprintf("%d:%x", id, hash))
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
