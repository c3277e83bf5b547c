package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"

	"consulvote/app/portal"
)

// The audit chains have one owner, this file with checkpoint.go,
// verify.go, upgrade.go and chains.go: it defines the chains, computes
// them for every new row (audit), signs checkpoints (checkpoint.go) and
// verifies the whole (verify.go), and moves an older version's single
// chain (upgrade.go). The store keeps rows and checkpoints as given.

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

// AuditEntries implements portal.Office (admin).
func (s *Service) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
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
