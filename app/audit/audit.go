// Package audit keeps a log that nobody without the key can edit, add to,
// reorder or cut unseen once a checkpoint has signed it. As in
// golang.org/x/mod/sumdb/tlog, the algorithm is plain functions and the
// storage an interface a store implements (Storage).
//
// Each row is sealed when it is written: an HMAC-SHA-256 under the key over
// its id and its content. Nothing chains rows together, so writers share no
// lock. A checkpoint, once a minute under the store's one lock, signs every
// row that no checkpoint signed yet, whatever its id (a transaction that
// commits late, with an id below rows already signed, is signed by the next
// checkpoint): how many, and a hash of their ids and MACs, chained to the
// MAC of the checkpoint before it. Nothing is kept in memory between
// calls: every instance, restarted or not, reaches the same verdicts from
// the same database and logs. docs/audit.md has the design and its limits.
package audit

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
	"time"
)

// Entry is one line of the audit log. Detail never holds a secret.
type Entry struct {
	At      time.Time
	Actor   string // "voter:<id>", "agent:<name>", "anonymous", "system"
	Action  string // e.g. "identifier.request"
	VoterID int64  // 0 when none
	Detail  string
}

// Row is an entry as stored.
type Row struct {
	ID int64 // numbered by the store, in the order rows are inserted
	Entry
	MAC []byte // RowMAC, computed when the row was written
	// Checkpoint is the checkpoint that signed the row, 0 while none has.
	// It is stored unsigned; the checkpoint's digest binds its rows.
	Checkpoint int64
}

// Checkpoint signs the rows no checkpoint had signed before it.
type Checkpoint struct {
	Seq    int64 // 1, 2, 3… with no gap
	At     time.Time
	Rows   int64  // how many rows it signs
	Digest []byte // Digest of those rows
	MAC    []byte // CheckpointMAC, chained to the previous checkpoint's
}

// Storage is the audit log in a store, always used inside one transaction
// of it.
type Storage interface {
	// AppendAudit stores e as a new row, numbers it, and stores seal(id) as
	// its MAC, in the same transaction.
	AppendAudit(e Entry, seal func(id int64) []byte) error
	// SignAudit, in a write transaction, takes the checkpoints' lock (held to
	// the transaction's end; the store's one lock), marks every committed
	// row that no checkpoint signed yet as signed by the checkpoint after
	// the newest, and, if there was any, stores the checkpoint that sign
	// returns for them. It gives sign the newest stored checkpoint (the
	// zero Checkpoint when none) and the rows, ID and MAC only.
	SignAudit(sign func(last Checkpoint, rows []Row) Checkpoint) error
	// AuditCheckpoints calls fn for every checkpoint, by Seq.
	AuditCheckpoints(fn func(Checkpoint) error) error
	// AuditRows calls fn for every row, by Checkpoint (unsigned rows first),
	// then by ID.
	AuditRows(fn func(Row) error) error
}

// fields writes length-prefixed values to a MAC, so that no two
// different messages encode alike.
type fields struct{ h hash.Hash }

func (f fields) num(v int64) {
	f.h.Write(binary.BigEndian.AppendUint64(nil, uint64(v)))
}

func (f fields) bytes(b []byte) {
	f.num(int64(len(b)))
	f.h.Write(b)
}

// RowMAC seals a row: HMAC-SHA-256 under key over its id and content.
func RowMAC(key []byte, id int64, e Entry) []byte {
	f := fields{hmac.New(sha256.New, key)}
	f.bytes([]byte("consulvote audit row/3"))
	f.num(id)
	f.num(e.At.UnixNano())
	f.bytes([]byte(e.Actor))
	f.bytes([]byte(e.Action))
	f.num(e.VoterID)
	f.bytes([]byte(e.Detail))
	return f.h.Sum(nil)
}

// Digest is the hash of rows' ids and MACs, in the order given (by ID).
func Digest(rows []Row) []byte {
	f := fields{sha256.New()}
	for _, r := range rows {
		f.num(r.ID)
		f.bytes(r.MAC)
	}
	return f.h.Sum(nil)
}

// CheckpointMAC signs c after the checkpoint whose MAC is prev.
func CheckpointMAC(key []byte, c Checkpoint, prev []byte) []byte {
	f := fields{hmac.New(sha256.New, key)}
	f.bytes([]byte("consulvote audit checkpoint/3"))
	f.num(c.Seq)
	f.num(c.At.UnixNano())
	f.num(c.Rows)
	f.bytes(c.Digest)
	f.bytes(prev)
	return f.h.Sum(nil)
}

// Append writes e to the log, sealed under key.
func Append(st Storage, key []byte, e Entry) error {
	return st.AppendAudit(e, func(id int64) []byte { return RowMAC(key, id, e) })
}

// Sign signs, at now, a checkpoint of every row no checkpoint signed yet,
// and returns it (Seq 0: there was none). Call it in a write transaction;
// a store that runs the transaction again runs it again.
func Sign(st Storage, key []byte, now time.Time) (Checkpoint, error) {
	var c Checkpoint
	err := st.SignAudit(func(last Checkpoint, rows []Row) Checkpoint {
		slices.SortFunc(rows, func(a, b Row) int { return cmp.Compare(a.ID, b.ID) })
		c = Checkpoint{Seq: last.Seq + 1, At: now, Rows: int64(len(rows)), Digest: Digest(rows)}
		c.MAC = CheckpointMAC(key, c, last.MAC)
		return c
	})
	if err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}
