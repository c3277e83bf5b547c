package service

import (
	"time"

	"consulvote/app/audit"
	"consulvote/app/portal"
)

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

	// EmailByDesk and MobileByDesk are when the help desk last set the
	// e-mail or the mobile (zero: as the roll has it). The roll import
	// keeps what the desk set until the roll agrees with it.
	EmailByDesk  time.Time
	MobileByDesk time.Time
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
	// MessageID is an e-mail's Message-Id header ("<…@…>"), which a
	// bounce may quote.
	MessageID string
	// Gateway names the SMS gateway that took the message ("primary",
	// "fallback"), GatewayID the gateway's id of it, which its receipts
	// name.
	Gateway, GatewayID string
	// Delivery, DeliveryStatus and DeliveryAt: what became of it after
	// (Deliveries.SetDelivery).
	Delivery, DeliveryStatus string
	DeliveryAt               time.Time
}

// AuditEntry is one line of the audit log. Detail never holds a secret nor
// the NUMIC typed by someone who matched no voter.
type AuditEntry = audit.Entry

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
	// TOTPSecret is the sealed secret of the agent's second factor (RFC
	// 6238), nil when the agent has none.
	TOTPSecret []byte
	// Email is where the agent's security alerts go ("": none).
	Email string
	// Scope is which voters the agent sees (scope.go).
	Scope portal.Scope
}

// AgentSessionRow is an open agent session; only the token's hash is kept.
type AgentSessionRow struct {
	TokenHash []byte
	AgentID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// The states of a contact change, as stored.
const (
	ChangePending   = "pending"
	ChangeApproved  = "approved"
	ChangeRejected  = "rejected"
	ChangeWithdrawn = "withdrawn"
	ChangeExpired   = "expired"
)

// ContactChange is a desk proposal to change a voter's e-mail or mobile.
// A New value of "" keeps the old one.
type ContactChange struct {
	ID        int64
	VoterID   int64
	OldEmail  string
	NewEmail  string
	OldMobile string
	NewMobile string
	Document  string
	Reason    string

	ProposedBy     int64  // agent id
	ProposedByName string // read only: the agent's name
	ProposedAt     time.Time
	ExpiresAt      time.Time

	State          string // one of the Change* states
	DecidedBy      int64  // agent id, 0 until decided (or when expired)
	DecidedByName  string // read only
	DecidedAt      time.Time
	DecisionReason string
}

// StateAt returns the proposal's state at now: a pending proposal is
// expired from ExpiresAt on, whether or not the store marked it yet.
func (c ContactChange) StateAt(now time.Time) string {
	if c.State == ChangePending && !now.Before(c.ExpiresAt) {
		return ChangeExpired
	}
	return c.State
}
