package service

import (
	"context"
	"errors"
	"fmt"
)

// DemoVoter is a voter of the demonstration roll, with its credentials in
// clear so that a person trying the app can use them.
type DemoVoter struct {
	NUMIC, Email, LastName, FirstNames, Mobile, Circonscription, Lang string
	Identifier, Password                                              string
}

// DemoRoll is the demonstration electoral roll. These credentials are
// public (they are in the README): never seed them into a real roll.
var DemoRoll = []DemoVoter{
	{NUMIC: "00012345", Email: "marie.dupont@example.org", LastName: "DUPONT", FirstNames: "Marie Claire",
		Mobile: "+33612345678", Circonscription: "Allemagne", Lang: "fr",
		Identifier: "hq67savGuH9Z", Password: "Mdp4Demo2026"},
	{NUMIC: "20345678", Email: "john.martin@example.org", LastName: "MARTIN", FirstNames: "John",
		Mobile: "+447700900123", Circonscription: "Royaume-Uni", Lang: "en",
		Identifier: "Tr8wLm2KpQ4x", Password: "Pwd7Demo2026"},
	{NUMIC: "31415926", Email: "ines.benali@example.org", LastName: "BENALI", FirstNames: "Inès",
		Mobile: "+212612345678", Circonscription: "Maroc", Lang: "fr",
		Identifier: "Zx3vB9nM5cQ7", Password: "Sms5Demo2026"},
}

// ErrRollNotEmpty is returned by SeedDemoRoll on a database that already
// holds voters: the demo roll is only for a fresh database.
var ErrRollNotEmpty = errors.New("the electoral roll is not empty")

// SeedDemoRoll fills a fresh database with DemoRoll, in one transaction.
func (s *Operator) SeedDemoRoll(ctx context.Context) error {
	// Check first: hashing the demo passwords is the slow part, and on
	// every start but the first the roll is already there.
	var n int
	if err := s.store.View(ctx, func(tx Tx) (err error) { n, err = tx.CountVoters(); return err }); err != nil {
		return fmt.Errorf("seed demo roll: %w", err)
	}
	if n > 0 {
		return ErrRollNotEmpty
	}
	type hashed struct {
		v        DemoVoter
		password string
	}
	hs := make([]hashed, len(DemoRoll))
	for i, d := range DemoRoll {
		var h string
		var err error
		// On the hashing workers, as every hash: their number bounds the
		// memory (19 MiB each) and the CPU.
		if werr := s.hashes.Wait(ctx, func() { h, err = hashPassword(d.Password, s.cfg.Argon2, s.rand) }); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		hs[i] = hashed{d, h}
	}
	now := s.clock.Now()
	err := s.store.Update(ctx, func(tx Tx) error {
		n, err := tx.CountVoters()
		if err != nil {
			return err
		}
		if n > 0 {
			return ErrRollNotEmpty
		}
		for _, h := range hs {
			d := h.v
			id, err := tx.InsertVoter(Voter{NUMIC: d.NUMIC, Email: d.Email, LastName: d.LastName,
				FirstNames: d.FirstNames, Mobile: d.Mobile, Circonscription: d.Circonscription, Lang: d.Lang,
				IdentifierHash: s.mac("identifier", d.Identifier), PasswordHash: h.password})
			if err != nil {
				return err
			}
			if err := s.audit(tx, AuditEntry{At: now, Actor: "system", Action: "voter.demo_seeded", VoterID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed demo roll: %w", err)
	}
	return nil
}
