package service

import (
	"context"
	"errors"
	"time"

	"consulvote/app/portal"
)

// Store is the storage the service needs. Update runs fn in one write
// transaction, committed only if fn returns nil; View runs fn in a read
// transaction. Both may run concurrently from many goroutines.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// ErrNotFound is returned by Tx lookups that find nothing.
var ErrNotFound = errors.New("not found")

// Tx is what the service reads and writes inside a transaction.
type Tx interface {
	InsertVoter(v Voter) (int64, error)
	CountVoters() (int, error)
	VoterByID(id int64) (Voter, error)
	VoterByNUMIC(numic string) (Voter, error)
	VoterByIdentifier(hash []byte) (Voter, error)
	// SetIdentifier replaces the voter's identifier hash and records when.
	SetIdentifier(voterID int64, hash []byte, at time.Time) error
	// SetPassword replaces the voter's password hash and records when.
	SetPassword(voterID int64, hash string, at time.Time) error
	SetLastLogin(voterID int64, at time.Time) error
	// AddFailure counts one wrong password or code and returns the count.
	AddFailure(voterID int64) (int, error)
	// Lock locks the voter until the given time and clears the count.
	Lock(voterID int64, until time.Time) error
	ClearFailures(voterID int64) error

	InsertLink(l Link) (int64, error)
	LinkByTokenHash(hash []byte) (Link, error)
	// HasPendingLink reports whether the voter has a link of that kind that
	// is neither used, replaced, revoked nor expired at now.
	HasPendingLink(voterID int64, kind LinkKind, now time.Time) (bool, error)
	// ReplaceLinks marks the voter's pending links of that kind replaced.
	ReplaceLinks(voterID int64, kind LinkKind, at time.Time) error
	// ConsumeLink marks the link used if it is still valid at at, and
	// reports whether it did: of concurrent callers, one gets true.
	ConsumeLink(id int64, at time.Time) (bool, error)
	// RevokeLinks kills every pending link of the voter.
	RevokeLinks(voterID int64, at time.Time) error

	InsertSecurityCode(id string, hash []byte, expires time.Time) error
	// TakeSecurityCode deletes the code and returns its hash and expiry,
	// so that each code is checked at most once.
	TakeSecurityCode(id string) (hash []byte, expires time.Time, err error)
	PurgeSecurityCodes(expiredBy time.Time) error

	// RateEvents returns the times of the events recorded under key since
	// the given time, oldest first, and forgets the older ones.
	RateEvents(key []byte, since time.Time) ([]time.Time, error)
	AddRateEvent(key []byte, at time.Time) error

	Enqueue(m Message) (int64, error)
	Messages(limit int) ([]Message, error)
	// DueMessages returns pending messages of the given channels whose
	// next attempt is due at now, oldest first.
	DueMessages(now time.Time, channels []Channel, limit int) ([]Message, error)
	// MarkSent records a message as delivered and scrubs its sealed body,
	// keeping what the desk shows (recipient, kind, subject, state, times).
	MarkSent(id int64, at time.Time) error
	// MarkAttempt records a failed attempt: the error, and when to try
	// again, or that the message failed for good when final.
	MarkAttempt(id int64, lastErr string, next time.Time, final bool) error

	// Audit appends e to the audit log, chained to the row before it
	// (AuditHash).
	Audit(e AuditEntry) error
	// LastAudit returns the newest row's id and hash (0, nil when empty).
	LastAudit() (int64, []byte, error)
	// AuditRows calls fn for every row, in id order.
	AuditRows(fn func(AuditRow) error) error
	InsertCheckpoint(c Checkpoint) error
	Checkpoints() ([]Checkpoint, error)

	InsertAgent(a Agent) (int64, error)
	AgentByName(name string) (Agent, error)
	// AgentFailed counts a wrong password for the agent, locks it until
	// lockUntil when the count reaches max, and returns the count.
	AgentFailed(agentID int64, max int, lockUntil time.Time) (int, error)
	AgentSucceeded(agentID int64) error
	InsertAgentSession(s AgentSessionRow) error
	// AgentBySession returns the agent whose session has that token hash
	// and its expiry.
	AgentBySession(tokenHash []byte) (Agent, time.Time, error)
	DeleteAgentSession(tokenHash []byte) error

	// VotersByNUMIC returns the voters with these NUMICs, by NUMIC.
	VotersByNUMIC(numics []string) (map[string]Voter, error)
	// UpdateRollData replaces a voter's roll data (not its credentials).
	UpdateRollData(v Voter) error

	// VotersWithoutCredentials returns up to limit voters who have no
	// identifier and were not sent anything in campaign, by id.
	VotersWithoutCredentials(campaign string, limit int) ([]Voter, error)
	// SetFirstCredentials gives a voter its first identifier and password
	// and records the campaign's send; false if the voter already had
	// credentials or was already in the campaign.
	SetFirstCredentials(campaign string, voterID int64, identifierHash []byte, passwordHash string, at time.Time) (bool, error)

	// FindVoters matches a NUMIC exactly or an e-mail exactly.
	FindVoters(numic, email string, limit int) ([]Voter, error)
	PendingLinks(voterID int64, now time.Time) ([]Link, error)
	VoterMessages(voterID int64, limit int) ([]Message, error)
	VoterHistory(voterID int64, limit int) ([]AuditEntry, error)
	// AuditSearch returns the newest entries whose actor and action contain
	// the given texts, about voterID when not 0.
	AuditSearch(actor, action string, voterID int64, limit int) ([]AuditEntry, error)
	// Unlock lifts a voter's lock and clears the failure count.
	Unlock(voterID int64) error
	OutboxCounts() (map[string]int, error)
	FailedMessages(limit int) ([]Message, error)
	// Requeue puts a failed message back as due at now; false if it was
	// not failed.
	Requeue(id int64, now time.Time) (bool, error)

	InsertSession(s Session) error
	DeleteSession(tokenHash []byte) error
	DeleteSessionsOf(voterID int64) error
}

// Voter is one row of the electoral roll with its credentials' state.
// Credentials are only hashes.
type Voter struct {
	ID              int64
	NUMIC           string
	Email           string // normalized
	LastName        string
	FirstNames      string
	Mobile          string // E.164
	Circonscription string
	Lang            string // "fr" or "en": the language of messages

	IdentifierHash []byte // keyed SHA-256
	PasswordHash   string // argon2id, PHC string

	FailedAttempts      int
	LockedUntil         time.Time
	IdentifierRenewedAt time.Time
	PasswordRenewedAt   time.Time
	LastLoginAt         time.Time
}

// LinkKind says which credential a link renews.
type LinkKind string

// The kinds of renewal links.
const (
	LinkIdentifier LinkKind = "identifier"
	LinkPassword   LinkKind = "password"
)

// Link is a single-use renewal link; only its token's keyed hash is kept.
type Link struct {
	ID         int64
	VoterID    int64
	Kind       LinkKind
	TokenHash  []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     time.Time
	ReplacedAt time.Time
	RevokedAt  time.Time
}

// State returns where the link stands at now. A link expires at ExpiresAt
// exactly.
func (l Link) State(now time.Time) portal.LinkState {
	switch {
	case !l.UsedAt.IsZero():
		return portal.LinkUsed
	case !l.RevokedAt.IsZero():
		return portal.LinkRevoked
	case !l.ReplacedAt.IsZero():
		return portal.LinkReplaced
	case !now.Before(l.ExpiresAt):
		return portal.LinkExpired
	}
	return portal.LinkValid
}

// Channel is how a message travels.
type Channel string

// The channels of the outbox.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// Message is one queued e-mail or SMS. Body is sealed (see package seal)
// because it may carry a link or a password.
type Message struct {
	ID        int64
	VoterID   int64 // 0 when none
	Channel   Channel
	Kind      string // e.g. "identifier.link"
	Recipient string
	Subject   string
	Body      []byte
	State     string // "pending" until the delivery worker sends it
	CreatedAt time.Time
	Attempts  int
	LastError string
}

// AuditEntry is one line of the audit log. Detail never holds a secret nor
// the NUMIC typed by someone who matched no voter.
type AuditEntry struct {
	At      time.Time
	Actor   string // "voter:<id>", "anonymous", later "agent:<name>"
	Action  string // e.g. "identifier.request"
	VoterID int64  // 0 when none
	Detail  string
}

// Session is an open voter session; only the token's hash is kept.
type Session struct {
	TokenHash []byte
	VoterID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Agent is a consular office account.
type Agent struct {
	ID           int64
	Name         string
	Role         string // "admin" or "agent"
	PasswordHash string // argon2id
	CreatedAt    time.Time
	LockedUntil  time.Time
}

// AgentSessionRow is an open agent session; only the token's hash is kept.
type AgentSessionRow struct {
	TokenHash []byte
	AgentID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
}
