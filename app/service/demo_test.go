package service_test

import (
	"testing"

	"consulvote/app/service"
)

// TestSeedDemoRollOnHashWorkers: the demonstration's passwords are hashed
// on the hashing workers, whose number bounds the app's argon2id memory
// (19 MiB a hash), like every other hash.
func TestSeedDemoRollOnHashWorkers(t *testing.T) {
	e := newEnv(t) // seeded
	if s := e.svc.Operator.HashStats(); s.Done != int64(len(service.DemoRoll)) {
		t.Errorf("%d hashes on the workers after the seeding, want %d (one a demo voter)", s.Done, len(service.DemoRoll))
	}
}
