package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
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
func (s *Service) SeedDemoRoll(ctx context.Context) error {
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
		h, err := hashPassword(d.Password, s.cfg.Argon2, s.rand)
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
			if err := tx.Audit(AuditEntry{At: now, Actor: "system", Action: "voter.demo_seeded", VoterID: id}); err != nil {
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

// OutboxMessage is a queued message opened for reading: the demo's
// "Messages envoyés" viewer and the tests use it.
type OutboxMessage struct {
	ID        int64
	Channel   Channel
	Kind      string
	To        string
	Subject   string
	Raw       []byte // the whole message, unsealed
	State     string
	CreatedAt time.Time
}

// Messages implements portal.Outbox: the newest messages with their text
// decoded. Only the local demonstration wires it to the screens.
func (s *Service) Messages(ctx context.Context, limit int) ([]portal.Message, error) {
	ms, err := s.Outbox(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]portal.Message, len(ms))
	for i, m := range ms {
		text := string(m.Raw)
		if m.Channel == ChannelEmail {
			if text, _, err = mail.Parts(m.Raw); err != nil {
				return nil, fmt.Errorf("outbox message %d: %w", m.ID, err)
			}
		}
		out[i] = portal.Message{ID: m.ID, Channel: string(m.Channel), To: m.To, Subject: m.Subject,
			Text: text, State: m.State, CreatedAt: m.CreatedAt}
	}
	return out, nil
}

// OpenMessage unseals a queued message's body, for the delivery worker.
func (s *Service) OpenMessage(m Message) ([]byte, error) {
	return s.box.Open(m.Body, []byte(m.Recipient))
}

// Outbox returns the newest queued messages, newest first, unsealed.
func (s *Service) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	var ms []Message
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		ms, err = tx.Messages(limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out := make([]OutboxMessage, len(ms))
	for i, m := range ms {
		var raw []byte
		if len(m.Body) > 0 { // a sent message's body is scrubbed
			if raw, err = s.OpenMessage(m); err != nil {
				return nil, fmt.Errorf("outbox message %d: %w", m.ID, err)
			}
		}
		out[i] = OutboxMessage{ID: m.ID, Channel: m.Channel, Kind: m.Kind, To: m.Recipient,
			Subject: m.Subject, Raw: raw, State: m.State, CreatedAt: m.CreatedAt}
	}
	return out, nil
}
