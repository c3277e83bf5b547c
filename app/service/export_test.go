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
