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
	if s := e.svc.HashStats(); s.Done != int64(len(service.DemoRoll)) {
		t.Errorf("%d hashes on the workers after the seeding, want %d (one a demo voter)", s.Done, len(service.DemoRoll))
	}
}

// TestDummyHashOnHashWorkers: the hash an unknown identifier is checked
// against is made on the hashing workers too, once, so that a first
// unknown login does not add a 19 MiB buffer beside theirs.
func TestDummyHashOnHashWorkers(t *testing.T) {
	e := newEnv(t)
	for i, want := range []int64{2, 1} { // made and checked, then checked
		before := e.svc.HashStats().Done
		if _, err := e.svc.Login(e.ctx, "AB12CD34EF56", "not the password"); err == nil {
			t.Fatal("an unknown identifier logged in")
		}
		if got := e.svc.HashStats().Done - before; got != want {
			t.Errorf("login %d of an unknown identifier: %d hashes on the workers, want %d", i+1, got, want)
		}
	}
}
