package service

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"time"
)

// The audit log is a set of chains, and each running service appends to
// chains of its own. A transaction that audits holds one of its service's
// chains from its first audit row until it ends; no other transaction
// writes to that chain meanwhile, so each row follows the tail the holder
// knows, and the database takes no lock for it: instances, and the
// transactions of one instance, commit their audited writes in parallel.
// (With one chain for everyone, every audited transaction of every
// instance waited for the chain's lock, held through each commit's flush
// to disk: the whole service was capped near one commit per flush.)
//
// A transaction that finds all its service's chains held starts a new
// chain instead of waiting: there are never more chains than audited
// transactions at once, and no wait here, which the database's deadlock
// detector could not see, can close a cycle with the database's locks. So
// a transaction may audit at any point; the rule that it audits last,
// which the single chain's lock needed, is gone.
//
// Chains are registered in the database with their first row; the
// checkpoints (checkpoint.go) sign the tail of every chain that moved, whoever
// wrote it, and name each chain, so that a chain cannot be dropped
// unseen. A service that closes seals its chains in its last checkpoint
// (a signed tail), and seals the chains it dropped two periods later.

// chain is one of the service's chains and its committed tail.
type chain struct {
	id   int64
	seq  int64
	hash []byte
}

// chains are the service's chains that no transaction holds.
type chains struct {
	mu     sync.Mutex
	idle   []*chain // the most recently used last: few chains stay busy
	closed bool     // sealed: new rows go to new chains
	origin string
	// own is the newest checkpoint this service signed, and expect the
	// checkpoints it was told of (ExpectCheckpoint: the server's log): the
	// database must still hold each, under its number, with its MAC.
	own    Checkpoint
	expect map[int64][]byte
	// rolledBack are the numbers of those found gone or replaced: once
	// seen, a rollback is reported by every verification and the service
	// signs nothing more, until it restarts (signing over it would hide
	// it from whoever comes next).
	rolledBack map[int64]bool
	// cut are the chains the service knew longer than the database holds
	// them (rows it committed, gone before any checkpoint signed them):
	// never sealed nor signed, and reported by every verification.
	cut []AuditProblem
	// dropped are the chains this service left (a failed commit, a row
	// refused), when, and their tail as last committed: nobody writes to
	// them again, and a checkpoint seals them, at their tail as the
	// database holds it, once a commit that failed but may still land
	// cannot (two checkpoint periods).
	dropped []droppedChain
	// retired are chains found cut while in use: left as they are.
	retired map[int64]bool
}

type droppedChain struct {
	chain
	at time.Time
}

// drop records that the service left c, whose committed tail it is, at
// at.
func (cs *chains) drop(c chain, at time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.dropped = append(cs.dropped, droppedChain{c, at})
}

// droppedBefore returns the chains dropped before t.
func (cs *chains) droppedBefore(t time.Time) map[int64]chain {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ids := map[int64]chain{}
	for _, d := range cs.dropped {
		if d.at.Before(t) {
			ids[d.id] = d.chain
		}
	}
	return ids
}

// forget removes sealed chains from the dropped ones.
func (cs *chains) forget(ids map[int64]chain) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.dropped = slices.DeleteFunc(cs.dropped, func(d droppedChain) bool { _, ok := ids[d.id]; return ok })
}

// signed records that the service signed checkpoint c.
func (cs *chains) signed(c Checkpoint) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c.Seq > cs.own.Seq {
		cs.own = Checkpoint{Seq: c.Seq, MAC: c.MAC}
	}
}

// expectCheckpoint records a checkpoint the database must still hold.
func (cs *chains) expectCheckpoint(seq int64, mac []byte) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.expect == nil {
		cs.expect = map[int64][]byte{}
	}
	if old, ok := cs.expect[seq]; ok && !bytes.Equal(old, mac) {
		// Two checkpoints under one number (two instances' logs): one
		// was signed over the other's, after a rollback.
		if cs.rolledBack == nil {
			cs.rolledBack = map[int64]bool{}
		}
		cs.rolledBack[seq] = true
	}
	cs.expect[seq] = mac
}

// expectations returns the checkpoints the service signed or was told
// of, by number. Taken before the transaction that reads the database's:
// a checkpoint the service signs meanwhile, which that transaction may
// not see, is not among them.
func (cs *chains) expectations() map[int64][]byte {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	exp := map[int64][]byte{}
	for seq, mac := range cs.expect {
		exp[seq] = mac
	}
	if cs.own.Seq != 0 {
		exp[cs.own.Seq] = cs.own.MAC
	}
	return exp
}

// rollbacks compares exp (expectations) with macs, the database's
// checkpoints by number, and returns the numbers gone or replaced, now
// or at any earlier look.
func (cs *chains) rollbacks(exp, macs map[int64][]byte) []int64 {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for seq, mac := range exp {
		if !bytes.Equal(macs[seq], mac) {
			if cs.rolledBack == nil {
				cs.rolledBack = map[int64]bool{}
			}
			cs.rolledBack[seq] = true
		}
	}
	var seqs []int64
	for seq := range cs.rolledBack {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs
}

// chainCut records a chain found shorter than the service knew it.
func (cs *chains) chainCut(p AuditProblem) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.cut = append(cs.cut, p)
}

// cutChains returns the chains found shorter than the service knew them.
func (cs *chains) cutChains() []AuditProblem {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return slices.Clone(cs.cut)
}

func newChains() *chains {
	host, _ := os.Hostname()
	return &chains{origin: fmt.Sprintf("%s pid %d", host, os.Getpid())}
}

// take returns an idle chain, or a new one when every chain is held.
func (cs *chains) take(s *Service) (*chain, error) {
	cs.mu.Lock()
	if n := len(cs.idle); n > 0 {
		c := cs.idle[n-1]
		cs.idle = cs.idle[:n-1]
		cs.mu.Unlock()
		return c, nil
	}
	cs.mu.Unlock()
	id, err := s.newChainID()
	if err != nil {
		return nil, err
	}
	return &chain{id: id}, nil
}

// newChainID returns a new chain's id: random, positive and not 0, so
// that instances need no coordination; the store refuses a second chain
// with the same id.
func (s *Service) newChainID() (int64, error) {
	b, err := s.randomBytes(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)&math.MaxInt64) | 1, nil
}

// put gives back a chain whose tail is committed.
func (cs *chains) put(c *chain) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !cs.closed && !cs.retired[c.id] {
		cs.idle = append(cs.idle, c)
	}
}

// idleTails are the committed tails of the idle chains, as they are now:
// a checkpoint compares them with the database, which holds at least as
// much unless rows were cut.
func (cs *chains) idleTails() map[int64]chain {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	m := make(map[int64]chain, len(cs.idle))
	for _, c := range cs.idle {
		if c.seq > 0 {
			m[c.id] = *c
		}
	}
	return m
}

// retire takes cut chains out of use: never written, sealed nor signed by
// this service again.
func (cs *chains) retire(ids []int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.retired == nil {
		cs.retired = map[int64]bool{}
	}
	for _, id := range ids {
		cs.retired[id] = true
	}
	idle := cs.idle[:0]
	for _, c := range cs.idle {
		if !cs.retired[c.id] {
			idle = append(idle, c)
		}
	}
	cs.idle = idle
}

// close returns the idle chains, which no transaction will write again.
func (cs *chains) close() []*chain {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	idle := cs.idle
	cs.idle = nil
	return idle
}

// chainedStore gives each write transaction of the service a chainTx: the
// chain it holds lives across the store's tries of one Update, and its
// tail moves only once the transaction committed.
type chainedStore struct {
	Store
	s *Service
}

func (c chainedStore) Update(ctx context.Context, fn func(Tx) error) error {
	var (
		held   *chain
		try    *chainTx
		fnErr  error
		broken bool
	)
	err := c.Store.Update(ctx, func(tx Tx) error {
		broken = false // only the last try's refusal counts
		try = &chainTx{Tx: tx, s: c.s, held: &held, broken: &broken}
		if held != nil {
			try.seq, try.hash = held.seq, held.hash
		}
		fnErr = fn(try)
		return fnErr
	})
	if held == nil {
		return err
	}
	switch {
	case broken:
		// The database refused a row at the chain's next place: someone
		// else wrote there (a row inserted behind the service's back), or
		// the chain is not what this service thinks. Given back, it would
		// fail every audited write of the service; a new chain starts
		// instead, and this one is left as it is, for the checkpoints to
		// sign and VerifyAuditLog to judge.
		c.s.log.ErrorContext(ctx, "audit chain dropped: the database refused its next row", "chain", chainName(held.id), "err", err)
		c.s.chains.drop(*held, c.s.clock.Now())
	case err == nil || errors.As(err, new(*CommitError)): // committed
		held.seq, held.hash = try.seq, try.hash
		c.s.chains.put(held)
	case fnErr != nil:
		c.s.chains.put(held) // rolled back: the tail is what it was
	default:
		// The commit failed, and may have happened all the same (a
		// connection lost during COMMIT): the tail is unknown here. The
		// chain is left; the checkpoints read its tail from the database.
		c.s.log.WarnContext(ctx, "audit chain left after a failed commit", "chain", chainName(held.id), "err", err)
		c.s.chains.drop(*held, c.s.clock.Now())
	}
	return err
}

// chainTx is a write transaction of the service; the chain it holds, if it
// audited, and the chain's tail with its rows.
type chainTx struct {
	Tx
	s    *Service
	held **chain
	seq  int64
	hash []byte
	// broken: the store refused to register the chain or to append to
	// it because its id or the row's place was taken (ErrConflict), in
	// the last try of the transaction. A retryable failure (a deadlock, a
	// serialization failure) is not the chain's fault: it is given back.
	broken *bool
}

// append adds e to the transaction's chain, taking one at its first row.
func (t *chainTx) append(e AuditEntry) error {
	if *t.held == nil {
		c, err := t.s.chains.take(t.s)
		if err != nil {
			return err
		}
		*t.held = c
		t.seq, t.hash = c.seq, c.hash
	}
	c := *t.held
	seq := t.seq + 1
	if seq == 1 {
		if err := t.StartAuditChain(AuditChain{ID: c.id, StartedAt: e.At, Origin: t.s.chains.origin}); err != nil {
			*t.broken = errors.Is(err, ErrConflict)
			return fmt.Errorf("start chain %s: %w", chainName(c.id), err)
		}
	}
	r := AuditRow{Chain: c.id, Seq: seq, AuditEntry: e, PrevHash: t.hash}
	r.Hash = t.s.auditHash(r)
	if err := t.AppendAudit(r); err != nil {
		*t.broken = errors.Is(err, ErrConflict)
		return err
	}
	t.seq, t.hash = seq, r.Hash
	return nil
}

// errNoChain: s.audit was given a transaction that did not come from the
// service's store (a programming error, which the tests meet).
var errNoChain = errors.New("audit outside a write transaction of the service's store")

// chainName is how people read a chain's id: 16 hexadecimal digits.
func chainName(id int64) string { return fmt.Sprintf("%016x", id) }
