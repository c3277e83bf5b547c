package service

// AuditForTest audits one row in tx as the service's transactions do.
func AuditForTest(s *Service, tx Tx) error {
	c := s.Operator.core
	return c.audit(tx, AuditEntry{At: c.clock.Now(), Actor: "system", Action: "audit.verified"})
}
