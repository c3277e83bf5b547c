package service

import (
	"context"
	"errors"
	"time"

	"consulvote/app/audit"
)

// Store is the storage the service needs. Update runs fn in one write
// transaction, committed only if fn returns nil; View runs fn in a read
// transaction. Both may run concurrently from many goroutines.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Commit wraps a refusal that must still commit what the transaction did
// (its audit entry, an attempt counted): returned from Update's fn, Update
// commits, then returns it (errors.As finds the *CommitError, errors.Is
// sees through it), from the run that committed. Any other error rolls
// back. Store.Update may run fn more than once: fn returns its refusal,
// never leaves it in a captured variable. Commit(nil) is nil: nothing
// refused, fn's transaction commits as any other.
func Commit(err error) error {
	if err == nil {
		return nil
	}
	return &CommitError{Err: err}
}

// commit is Commit(refusal), unless err (writing what the refusal
// commits, such as its audit entry) failed: then the transaction rolls
// back with err.
func commit(refusal, err error) error {
	if err != nil {
		return err
	}
	return Commit(refusal)
}

// CommitError is Commit's wrapper.
type CommitError struct{ Err error }

func (e *CommitError) Error() string { return e.Err.Error() }
func (e *CommitError) Unwrap() error { return e.Err }

// ErrNotFound is returned by lookups that find nothing.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by an insert that a uniqueness rule of the
// store refuses.
var ErrConflict = errors.New("conflict")

// Tx is one transaction: every role below, so that one change spanning
// several of them (a link, its e-mail and the audit line) commits whole.
// The service's parts name the roles they use; a store implements each
// role, and storetest checks it against the same suite.
//
// The methods take no context: a Tx is bound to the context its Update or
// View was called with, as a *sql.Tx is bound to BeginTx's.
type Tx interface {
	Voters
	Credentials
	Lockouts
	Links
	Codes
	RateLimits
	Sessions
	Outbox
	Deliveries
	AuditLog
	Agents
	Throttles
	Roll
	Campaigns
	ContactChanges
}

// The roles one step of a request uses together, for the helpers that
// take a step's part of the transaction rather than all of Tx.
type (
	// failureTx counts a voter's failure: the attempt, the lock and the
	// links it ends, the audit lines.
	failureTx interface {
		Lockouts
		Links
		AuditLog
	}
	// successTx forgets a voter's attempts after a success.
	successTx interface {
		Lockouts
		Voters
	}
	// limitedOutbox sends a notice at most once per window.
	limitedOutbox interface {
		RateLimits
		Outbox
	}
	// limitTx counts a renewal request against its limits.
	limitTx interface {
		RateLimits
		Voters
	}
	// linkTx sends a renewal link.
	linkTx interface {
		Links
		Outbox
		AuditLog
	}
	// identifierTx and passwordTx store a new credential and tell the
	// voter.
	identifierTx interface {
		Credentials
		Sessions
		Outbox
		AuditLog
	}
	passwordTx interface {
		identifierTx
		Lockouts
	}
	// secondFactorTx checks an agent's one-time code: its lock and the
	// admin's alert.
	secondFactorTx interface {
		Agents
		Throttles
		Outbox
		AuditLog
	}
	// scopedOutbox reads messages and whose they are.
	scopedOutbox interface {
		Outbox
		Voters
	}
)

// Voters looks voters up.
type Voters interface {
	InsertVoter(v Voter) (int64, error)
	CountVoters() (int, error)
	VoterByID(id int64) (Voter, error)
	VoterByNUMIC(numic string) (Voter, error)
	VoterByIdentifier(hash []byte) (Voter, error)
	// FindVoters matches a NUMIC exactly or an e-mail exactly, by id.
	FindVoters(numic, email string, limit int) ([]Voter, error)
}

// Credentials records a voter's credentials and their use.
type Credentials interface {
	// SetIdentifier replaces the voter's identifier hash and records when.
	SetIdentifier(voterID int64, hash []byte, at time.Time) error
	// SetPassword replaces the voter's password hash and records when.
	SetPassword(voterID int64, hash string, at time.Time) error
}

// Lockouts decides in the database how many passwords and codes a voter's
// account may have checked: an attempt is reserved before the slow check
// and the outcome follows the reservation, so that neither concurrent
// guesses nor several server instances get more than the limit.
type Lockouts interface {
	// ReserveAttempt takes one of the max attempts of the voter's current
	// window, in one conditional update: a window opens at the first
	// attempt after the last one ended and lasts window. It returns the
	// attempt's number (1 to max); or 0 and when the lock ends when the
	// voter is locked at now; or 0 and the zero time when the window's
	// attempts are all taken by checks still running. Of any number of
	// concurrent callers, at most max get a number per window.
	ReserveAttempt(voterID int64, now time.Time, max int, window time.Duration) (n int, lockedUntil time.Time, err error)
	// ReleaseAttempt gives back a reserved attempt that checked nothing
	// (an expired security code, busy hashing workers).
	ReleaseAttempt(voterID int64) error
	// Lock locks the voter until the given time; the window ends then too.
	// The zero time lifts the lock and forgets the attempts.
	Lock(voterID int64, until time.Time) error
	// ClearFailures forgets the window's attempts after a success, unless
	// the voter is locked at now: then it changes nothing and reports
	// false, and the success must be refused.
	ClearFailures(voterID int64, now time.Time) (bool, error)
}

// Links keeps the single-use renewal links.
type Links interface {
	// InsertLink stores l, and marks the voter's pending links of its kind
	// replaced at l.CreatedAt: a voter has one pending link of a kind.
	InsertLink(l Link) (int64, error)
	LinkByTokenHash(hash []byte) (Link, error)
	// PendingLinks returns the voter's links that are neither used,
	// replaced, revoked nor expired at now, by id.
	PendingLinks(voterID int64, now time.Time) ([]Link, error)
	// ConsumeLink marks the link used if it is still valid at at, and
	// reports whether it did: of concurrent callers, one gets true.
	ConsumeLink(id int64, at time.Time) (bool, error)
	// RevokeLinks kills every pending link of the voter.
	RevokeLinks(voterID int64, at time.Time) error
}

// Codes keeps the security codes already tried, by a keyed hash of
// their id, until they expire: a code drawn is stored nowhere.
type Codes interface {
	// SpendSecurityCode records the code as tried and reports whether it
	// was not yet: of concurrent callers, one gets true.
	SpendSecurityCode(key []byte, expires time.Time) (bool, error)
	// SecurityCodeSpent reports whether the code was tried, without
	// recording anything.
	SecurityCodeSpent(key []byte) (bool, error)
}

// RateLimits counts events under a key, for the per-NUMIC limits.
type RateLimits interface {
	// RateEvents returns, for each key, the times of the events recorded
	// under it since the given time, oldest first, and forgets the older
	// ones. In a write transaction, it locks the keys in the order given
	// (in one go where the store can).
	RateEvents(since time.Time, keys ...[]byte) ([][]time.Time, error)
	AddRateEvent(key []byte, at time.Time) error
	// PurgeLimits deletes up to limit keys whose events were all recorded
	// at or before eventsBefore (the keys never counted again: RateEvents
	// forgets a key's old events only then), and up to limit spent codes
	// (Codes) that expired by codesExpiredBy, and returns how many rows
	// went. Concurrent purges delete each row once.
	PurgeLimits(eventsBefore, codesExpiredBy time.Time, limit int) (int, error)
}

// MessageFilter selects messages: each field set narrows the selection.
type MessageFilter struct {
	ID      int64
	VoterID int64
	State   string
	// Gateway and GatewayID select the SMS that gateway knows by that id
	// (none when GatewayID is empty).
	Gateway, GatewayID string
	Limit              int // at most that many, the newest (0: all)
}

// Sessions keeps the voters' sessions (their tokens' hashes).
type Sessions interface {
	// InsertSession opens a session and records its start as the voter's
	// last login.
	InsertSession(s Session) error
	DeleteSession(tokenHash []byte) error
	DeleteSessionsOf(voterID int64) error
}

// Outbox is the queue of messages as the service and the office see it;
// the delivery worker declares its own view (outbox.Queue).
type Outbox interface {
	Enqueue(m Message) (int64, error)
	// Messages returns the messages f selects (their bodies as stored),
	// newest first.
	Messages(f MessageFilter) ([]Message, error)
	// OutboxDepth returns, for each channel and state but "sent" that has
	// messages, how many and when the oldest was queued.
	OutboxDepth() ([]OutboxDepth, error)
	// Requeue puts a failed message back as due at now; false if it was
	// not failed.
	Requeue(id int64, now time.Time) (bool, error)
}

// AuditLog is the audit log's storage (app/audit) and the history views
// read from it.
type AuditLog interface {
	audit.Storage
	// AuditSearch returns the newest entries whose actor and action contain
	// the given texts, about voterID when not 0.
	AuditSearch(actor, action string, voterID int64, limit int) ([]AuditEntry, error)
}

// Agents keeps the consular office's accounts and their sessions.
type Agents interface {
	// InsertAgent stores the agent with the keyed hashes of its recovery
	// codes.
	InsertAgent(a Agent, recovery [][]byte) (int64, error)
	AgentByName(name string) (Agent, error)
	// SetAgentEmail sets where the agent's security alerts go.
	SetAgentEmail(agentID int64, email string) error
	// UseTOTPStep records that the agent's one-time code of time step
	// step was used, if no code of that step or a later one was: false
	// otherwise, so that a code serves once.
	UseTOTPStep(agentID, step int64) (bool, error)
	// TakeRecoveryCode deletes the agent's recovery code of that hash and
	// reports whether there was one: of concurrent callers, one gets true.
	TakeRecoveryCode(agentID int64, hash []byte) (bool, error)
	InsertAgentSession(s AgentSessionRow) error
	// AgentBySession returns the agent whose session has that token hash
	// and its expiry.
	AgentBySession(tokenHash []byte) (Agent, time.Time, error)
	DeleteAgentSession(tokenHash []byte) error
	// ResetSecondFactor gives the agent the sealed TOTP secret and the
	// recovery codes' hashes in place of its own, and forgets all the old
	// ones allowed: the last code step used, the old recovery codes and
	// the agent's sessions. It returns how many sessions it ended, or
	// ErrNotFound.
	ResetSecondFactor(agentID int64, sealed []byte, recovery [][]byte) (sessions int, err error)
}

// Throttles slow guessing down per key (a keyed hash of an agent name and
// a source address, or of a source alone), decided in the database like
// Lockouts: an attempt is reserved before the slow check. Past max
// failures in a window the key is blocked for a time that doubles with
// each block, so that a source guessing goes ever slower while the
// account stays open to everyone else.
type Throttles interface {
	// ReserveThrottled takes one of the max attempts of key's current
	// window (opened by the first attempt after the last window ended,
	// window long). It returns the attempt's number; or 0 and when the
	// block ends if key is blocked at now; or 0 and the zero time when the
	// window's attempts are all being checked.
	ReserveThrottled(key []byte, now time.Time, max int, window time.Duration) (n int, blockedUntil time.Time, err error)
	// ThrottleFailed records that attempt n of key failed. When n is max,
	// key is blocked from now for base, doubled for each earlier block,
	// at most maxBlock, and the block's end is returned.
	ThrottleFailed(key []byte, n, max int, now time.Time, base, maxBlock time.Duration) (blockedUntil time.Time, err error)
	// ReleaseThrottled gives back an attempt that checked nothing.
	ReleaseThrottled(key []byte) error
	// ThrottleSucceeded forgets key: its attempts and its blocks.
	ThrottleSucceeded(key []byte) error
}

// Roll is what the roll import reads and writes.
type Roll interface {
	// InsertVoters stores new voters at once (PostgreSQL: COPY); a NUMIC
	// already stored fails the call.
	InsertVoters(vs []Voter) error
	// VotersByNUMIC returns the voters with these NUMICs, by NUMIC, with
	// their roll data and EmailByDesk and MobileByDesk.
	VotersByNUMIC(numics []string) (map[string]Voter, error)
	// UpdateRollData replaces a voter's roll data (not its credentials),
	// except an e-mail or mobile the desk set (EmailByDesk, MobileByDesk
	// as stored, not as given), which it keeps: decided in the update
	// itself, so that an approval committed meanwhile is never undone.
	// When the roll brings the value the desk set, the desk's mark ends
	// and later imports update that field again.
	UpdateRollData(v Voter) error
}

// Campaigns records the first-credentials campaigns.
type Campaigns interface {
	// VotersWithoutCredentials returns up to limit voters who have no
	// identifier and were not sent anything in campaign, by id.
	VotersWithoutCredentials(campaign string, limit int) ([]Voter, error)
	// SetFirstCredentials gives a voter its first identifier and password
	// and records the campaign's send; false if the voter already had
	// credentials or was already in the campaign.
	SetFirstCredentials(campaign string, voterID int64, identifierHash []byte, passwordHash string, at time.Time) (bool, error)
}

// ContactChanges keeps the desk's proposals to change a voter's e-mail or
// mobile. The rules that must hold under concurrency are decided in the
// database: one pending proposal per voter, and a proposal decided once,
// not after its expiry, and never approved by its proposer.
type ContactChanges interface {
	// InsertContactChange stores a pending proposal and returns its id. It
	// fails with ErrConflict while the voter has another one pending
	// (ExpireContactChanges ends the expired ones).
	InsertContactChange(c ContactChange) (int64, error)
	// ExpireContactChanges marks expired every pending proposal whose
	// ExpiresAt is at or before now, and returns them.
	ExpireContactChanges(now time.Time) ([]ContactChange, error)
	// ContactChangeByID returns a proposal with its agents' names.
	ContactChangeByID(id int64) (ContactChange, error)
	// PendingContactChanges returns up to limit proposals pending and not
	// expired at now, oldest first.
	PendingContactChanges(now time.Time, limit int) ([]ContactChange, error)
	// VoterContactChanges returns the voter's newest proposals, newest
	// first.
	VoterContactChanges(voterID int64, limit int) ([]ContactChange, error)
	// DecideContactChange moves a proposal that is pending and not expired
	// at at to state (approved, rejected or withdrawn), decided by agentID
	// for reason, and reports whether it did. An approval also needs
	// agentID to differ from the proposer. Of concurrent callers, at most
	// one gets true.
	DecideContactChange(id int64, state string, agentID int64, reason string, at time.Time) (bool, error)
	// SetContact replaces the voter's e-mail and mobile if they are still
	// oldEmail and oldMobile, marks each one that changes as set by the
	// desk at at, and reports whether it did.
	SetContact(voterID int64, oldEmail, oldMobile, email, mobile string, at time.Time) (bool, error)
	// LockAddress holds, until the write transaction ends, a lock on key
	// (a keyed hash of an e-mail address): the approvals that move voters
	// onto one address queue on it, so that "no other voter has it" and
	// the move are decided one after the other. No constraint can say it:
	// the roll may give one address to several voters (a couple), the
	// desk may not. A store whose writers run one at a time has nothing
	// to do. Taken before the voter's row (the one order of these locks).
	LockAddress(key []byte) error
}
