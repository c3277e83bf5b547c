package service

import "context"

// AuditForTest audits one row in tx as the service's transactions do.
func AuditForTest(s *Service, tx Tx) error {
	return s.audit(tx, AuditEntry{At: s.clock.Now(), Actor: "system", Action: "test"})
}

// UpdateForTest runs fn in a write transaction of the service's store, as
// the service's own transactions run.
func UpdateForTest(s *Service, ctx context.Context, fn func(Tx) error) error {
	return s.store.Update(ctx, fn)
}

// CheckpointMACForTest signs c after the checkpoint whose MAC is prev.
func CheckpointMACForTest(s *Service, c Checkpoint, prev []byte) []byte {
	return s.checkpointMAC(c, prev)
}

// AuditActionForTest audits one row of the given action in tx.
func AuditActionForTest(s *Service, tx Tx, action string) error {
	return s.audit(tx, AuditEntry{At: s.clock.Now(), Actor: "system", Action: action})
}

// CheckpointForTest is CheckpointAudit, returning what it signed.
func CheckpointForTest(s *Service, ctx context.Context) (Checkpoint, error) {
	return s.checkpoint(ctx, nil)
}
