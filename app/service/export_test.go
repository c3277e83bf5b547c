package service

// AuditForTest audits one row in tx as the service's transactions do.
func AuditForTest(s *Service, tx Tx) error {
	return s.audit(tx, AuditEntry{At: s.clock.Now(), Actor: "system", Action: "audit.verified"})
}
