package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"maps"
	"slices"
	"time"
)

// The causes of a Problem; N and M are its numbers.
const (
	// A row whose content does not match its MAC: edited, or written
	// without the key.
	Altered = "hash"
	// A row whose content or MAC was written as row N: rows reordered.
	Moved = "moved"
	// N of the rows Checkpoint signed are gone.
	SignedRowsGone = "signed_rows_gone"
	// The rows Checkpoint signed were replaced or added to: it signed N,
	// the database holds M under it.
	SignedRowsChanged = "signed_rows_changed"
	// N rows name Checkpoint, which is gone: the newest checkpoints
	// deleted.
	CheckpointGone = "checkpoint_gone"
	// Checkpoints N to M, before Checkpoint, are gone.
	CheckpointGap = "checkpoint_gap"
	// Checkpoint does not match its MAC: edited.
	CheckpointSignature = "checkpoint_signature"
	// N rows, from Row on, older than the cut-off, that no checkpoint
	// signed: checkpoints deleted, or none made.
	Unsigned = "unsigned"
	// Checkpoint, which a log shows, is not in the database as signed
	// there (its checkpoints end at N): the log was rolled back.
	RolledBack = "checkpoint_rolled_back"
)

// Causes are every cause Verify reports.
var Causes = []string{Altered, Moved, SignedRowsGone, SignedRowsChanged, CheckpointGone, CheckpointGap,
	CheckpointSignature, Unsigned, RolledBack}

// Problem is one finding of Verify: the row (ID) or the checkpoint (Seq)
// where it shows, its cause and numbers.
type Problem struct {
	Cause           string
	Row, Checkpoint int64
	N, M            int64
}

var texts = map[string]string{
	Altered:             "row %[1]d: its content does not match its MAC: edited, or written without the key",
	Moved:               "row %[1]d: it was written as row %[3]d: rows reordered",
	SignedRowsGone:      "checkpoint %[2]d: %[3]d of the rows it signed are gone",
	SignedRowsChanged:   "checkpoint %[2]d: the rows it signed were replaced or added to (it signed %[3]d, the database holds %[4]d under it)",
	CheckpointGone:      "checkpoint %[2]d: %[3]d rows name it, and it is gone: the newest checkpoints were deleted",
	CheckpointGap:       "checkpoint %[2]d: checkpoints %[3]d to %[4]d before it are gone",
	CheckpointSignature: "checkpoint %[2]d: it does not match its MAC: edited",
	Unsigned:            "row %[1]d: from here, %[3]d rows older than two checkpoint periods are signed by no checkpoint: checkpoints deleted, or none made",
	RolledBack:          "checkpoint %[2]d: a log shows it, and the database does not hold it as signed (its checkpoints end at %[3]d): rolled back",
}

func (p Problem) String() string {
	return fmt.Sprintf(texts[p.Cause], p.Row, p.Checkpoint, p.N, p.M)
}

// maxSuspects bounds the rows failing their MAC that Verify tries at each
// other's id (a quadratic search) to tell a reorder from an edit.
const maxSuspects = 256

// verifier is the state of one Verify.
type verifier struct {
	key      []byte
	old      time.Time
	cps      map[int64]Checkpoint
	last     int64
	rows     int
	problems []Problem
	suspects []Row // rows that fail their MAC
	// The rows of one checkpoint (0: unsigned) being read.
	group, n, oldFrom, oldN int64
	digest                  hash.Hash
	reading                 bool // a group has begun
	seen                    map[int64]bool
}

// Verify reads the whole log and returns what was tampered with, and how
// many rows it read. Rows written before old that no checkpoint signed are
// a finding. Each of logged (the Seq and MAC of a checkpoint, from a log
// outside the database) must be stored as it is there.
func Verify(st Storage, key []byte, old time.Time, logged []Checkpoint) ([]Problem, int, error) {
	v := &verifier{key: key, old: old, cps: map[int64]Checkpoint{}, seen: map[int64]bool{}}
	if err := st.AuditCheckpoints(v.checkpoint); err != nil {
		return nil, 0, fmt.Errorf("read the audit checkpoints: %w", err)
	}
	rolledBack := map[int64]bool{}
	for _, l := range logged {
		if c, ok := v.cps[l.Seq]; (!ok || !hmac.Equal(c.MAC, l.MAC)) && !rolledBack[l.Seq] {
			rolledBack[l.Seq] = true
			v.add(Problem{Cause: RolledBack, Checkpoint: l.Seq, N: v.last})
		}
	}
	if err := st.AuditRows(v.row); err != nil {
		return nil, 0, fmt.Errorf("read the audit rows: %w", err)
	}
	v.endGroup()
	for _, seq := range slices.Sorted(maps.Keys(v.cps)) {
		if c := v.cps[seq]; !v.seen[seq] && c.Rows > 0 {
			v.add(Problem{Cause: SignedRowsGone, Checkpoint: seq, N: c.Rows})
		}
	}
	v.judgeSuspects()
	return v.problems, v.rows, nil
}

func (v *verifier) add(p Problem) { v.problems = append(v.problems, p) }

// checkpoint checks c's place and MAC after the checkpoint before it.
func (v *verifier) checkpoint(c Checkpoint) error {
	switch {
	case c.Seq != v.last+1:
		v.add(Problem{Cause: CheckpointGap, Checkpoint: c.Seq, N: v.last + 1, M: c.Seq - 1})
	case !hmac.Equal(c.MAC, CheckpointMAC(v.key, c, v.cps[v.last].MAC)):
		v.add(Problem{Cause: CheckpointSignature, Checkpoint: c.Seq})
	}
	v.cps[c.Seq], v.last = c, max(v.last, c.Seq)
	return nil
}

// row checks r's MAC and adds it to its checkpoint's digest.
func (v *verifier) row(r Row) error {
	v.rows++
	if !v.reading || r.Checkpoint != v.group {
		v.endGroup()
		v.reading, v.group, v.n, v.oldN, v.digest = true, r.Checkpoint, 0, 0, nil
		if r.Checkpoint != 0 {
			v.digest = sha256.New()
		}
	}
	v.n++
	if v.digest != nil {
		f := fields{v.digest}
		f.num(r.ID)
		f.bytes(r.MAC)
	} else if r.At.Before(v.old) {
		if v.oldN == 0 {
			v.oldFrom = r.ID
		}
		v.oldN++
	}
	if !hmac.Equal(r.MAC, RowMAC(v.key, r.ID, r.Entry)) {
		v.suspects = append(v.suspects, r)
	}
	return nil
}

// endGroup judges the rows of one checkpoint against what it signed.
func (v *verifier) endGroup() {
	switch c, ok := v.cps[v.group]; {
	case !v.reading:
		return
	case v.group == 0:
		if v.oldN > 0 {
			v.add(Problem{Cause: Unsigned, Row: v.oldFrom, N: v.oldN})
		}
	case !ok:
		v.add(Problem{Cause: CheckpointGone, Checkpoint: v.group, N: v.n})
	case v.n < c.Rows:
		v.add(Problem{Cause: SignedRowsGone, Checkpoint: v.group, N: c.Rows - v.n})
	case v.n > c.Rows || !bytes.Equal(v.digest.Sum(nil), c.Digest):
		v.add(Problem{Cause: SignedRowsChanged, Checkpoint: v.group, N: c.Rows, M: v.n})
	}
	v.seen[v.group] = true
}

// judgeSuspects reports each row that fails its MAC as moved, when its
// content was sealed under another suspect's id (whole rows swapped, or
// their contents), else as altered.
func (v *verifier) judgeSuspects() {
	for _, r := range v.suspects {
		p := Problem{Cause: Altered, Row: r.ID}
		if len(v.suspects) <= maxSuspects {
			for _, q := range v.suspects {
				if m := RowMAC(v.key, q.ID, r.Entry); q.ID != r.ID && (hmac.Equal(m, r.MAC) || hmac.Equal(m, q.MAC)) {
					p = Problem{Cause: Moved, Row: r.ID, N: q.ID}
					break
				}
			}
		}
		v.add(p)
	}
}
