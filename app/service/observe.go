package service

import (
	"context"
	"time"

	"consulvote/app/portal"
)

// Observer is told what the service decided, once the decision is
// committed, for the operators' metrics (app/metrics implements it with
// Prometheus; the service itself knows no metrics library). Every value
// it gets is a word from a small fixed set or a duration: never a NUMIC,
// an address, a name or a secret. Its methods must be cheap and safe for
// concurrent use.
type Observer interface {
	// SecurityCode: a code was drawn ("drawn") or checked ("right",
	// "wrong", "expired").
	SecurityCode(event string)
	// RenewalRequested: a renewal request of kind ("identifier",
	// "password") was answered; reason is "accepted" when a link or a
	// password went out, else why not: a refusal's code
	// ("rate_limited", "renewal_conflict", "locked", …) or what the
	// neutral answer hid ("no_match", "wrong_numic", "no_mobile").
	RenewalRequested(kind, reason string)
	// RenewalConfirmed: a renewal link was confirmed with the password and
	// a code; reason is "confirmed" or the refusal's code.
	RenewalConfirmed(kind, reason string)
	// Login: a voter's login was answered: "ok" or the refusal's code.
	Login(outcome string)
	// Locked: an account ("voter") was locked by its last failed attempt,
	// a source was blocked from the agents' login ("agent_source"), an
	// agent's name slowed down from every source ("agent_account"), or an
	// agent's one-time codes locked ("agent_totp").
	Locked(account string)
	// HashWaited: a password hash waited that long for a worker.
	HashWaited(d time.Duration)
	// Transaction: a store transaction ("update", "view") took d, the wait
	// for the writer included.
	Transaction(op string, d time.Duration)
}

// Outcomes the observer gets besides portal's error codes.
const (
	OutcomeAccepted  = "accepted"
	OutcomeConfirmed = "confirmed"
	OutcomeOK        = "ok"
	// What the neutral answer to a renewal request hides.
	OutcomeNoMatch    = "no_match"
	OutcomeWrongNUMIC = "wrong_numic"
	OutcomeNoMobile   = "no_mobile"
)

// outcome names err for the observer: ok when nil, else the refusal's
// stable code ("internal" for a failure that is not a refusal).
func outcome(ok string, err error) string {
	if err == nil {
		return ok
	}
	return string(portal.ErrorCode(err))
}

// nopObserver is the observer of a service nobody watches.
type nopObserver struct{}

func (nopObserver) SecurityCode(string)               {}
func (nopObserver) RenewalRequested(string, string)   {}
func (nopObserver) RenewalConfirmed(string, string)   {}
func (nopObserver) Login(string)                      {}
func (nopObserver) Locked(string)                     {}
func (nopObserver) HashWaited(time.Duration)          {}
func (nopObserver) Transaction(string, time.Duration) {}

// observedStore times every transaction of the service.
type observedStore struct {
	Store
	obs Observer
}

func (o observedStore) Update(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	err := o.Store.Update(ctx, fn)
	o.obs.Transaction("update", time.Since(start))
	return err
}

func (o observedStore) View(ctx context.Context, fn func(Tx) error) error {
	start := time.Now()
	err := o.Store.View(ctx, fn)
	o.obs.Transaction("view", time.Since(start))
	return err
}
