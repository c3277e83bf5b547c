// Package portal is the contract between the voter's screens and whatever
// serves them: the in-process service on a local SQLite store, or the remote
// client of `consulvoted serve`. It declares the Portal interface, its request
// and result types and its typed errors, and depends on nothing else of the
// project.
package portal

import (
	"context"
	"time"
)

// Portal is what the screens call. Every method is safe for concurrent use.
type Portal interface {
	// NewSecurityCode draws a fresh single-use security code.
	NewSecurityCode(ctx context.Context) (SecurityCode, error)

	// SecurityCodeAudio says the digits of the security code id in
	// language ("fr" or "en") as a WAV sound, for voters who cannot see
	// the picture. Each call draws another sound; none spends the code.
	SecurityCodeAudio(ctx context.Context, id, language string) ([]byte, error)

	// RequestIdentifierRenewal asks for a single-use renewal link by e-mail.
	// It returns nil whether or not the NUMIC and e-mail match a voter, so
	// that the answer does not tell which voters exist.
	RequestIdentifierRenewal(ctx context.Context, req IdentifierRenewalRequest) error

	// InspectLink tells what state a renewal link is in, without consuming it.
	// link may be the whole link from the e-mail or the bare token.
	InspectLink(ctx context.Context, link string) (LinkStatus, error)

	// ConfirmIdentifierRenewal consumes a valid link, given the voter's SMS
	// password and a security code, and returns the new identifier. The
	// identifier is shown once: nothing can return it again.
	ConfirmIdentifierRenewal(ctx context.Context, req ConfirmRequest) (Renewal, error)

	// RequestPasswordRenewal sends a new password by SMS to the mobile
	// number on file, given the voter's identifier and NUMIC. Like an
	// identifier request, it returns nil whether or not they match.
	RequestPasswordRenewal(ctx context.Context, req PasswordRenewalRequest) error

	// Login opens a voter session.
	Login(ctx context.Context, identifier, password string) (Session, error)

	// Logout ends a session opened by Login. Ending an unknown or already
	// ended session is not an error.
	Logout(ctx context.Context, token string) error
}

// SecurityCode is a 4-digit code drawn as a distorted image. The digits are
// only in the image; the caller sends back ID with what the user read.
type SecurityCode struct {
	ID        string
	PNG       []byte
	ExpiresAt time.Time
}

// IdentifierRenewalRequest is the form of screen E2.
type IdentifierRenewalRequest struct {
	NUMIC  string
	Email  string
	CodeID string
	Code   string
}

// PasswordRenewalRequest is the form of "Mot de passe perdu ou non reçu":
// a lost password is recovered with the identifier and the NUMIC.
type PasswordRenewalRequest struct {
	Identifier string
	NUMIC      string
	CodeID     string
	Code       string
}

// ConfirmRequest is the form of screen E5.
type ConfirmRequest struct {
	Link     string // the whole link from the e-mail, or the bare token
	Password string // the password received by SMS
	CodeID   string
	Code     string
}

// LinkState is where a renewal link stands.
type LinkState string

// The states of a renewal link. Only LinkValid can be confirmed.
const (
	LinkValid    LinkState = "valid"
	LinkExpired  LinkState = "expired"
	LinkUsed     LinkState = "used"
	LinkReplaced LinkState = "replaced" // a newer request superseded it
	LinkRevoked  LinkState = "revoked"  // killed by a lockout or an agent
	LinkUnknown  LinkState = "unknown"
)

// LinkStatus is the answer of InspectLink.
type LinkStatus struct {
	State     LinkState
	ExpiresAt time.Time // zero when State is LinkUnknown
}

// Err returns the error a confirmation of a link in this state would get,
// or nil when the link is valid.
func (s LinkStatus) Err() error {
	switch s.State {
	case LinkValid:
		return nil
	case LinkExpired:
		return ErrLinkExpired
	case LinkUsed:
		return ErrLinkUsed
	case LinkReplaced:
		return ErrLinkReplaced
	case LinkRevoked:
		return ErrLinkRevoked
	default:
		return ErrLinkUnknown
	}
}

// Renewal is the result of a confirmed identifier renewal.
type Renewal struct {
	Identifier string // the new identifier, shown once
	NUMIC      string // whose identifier it is (the keychain entry's user)
}

// Session is a voter's open session.
type Session struct {
	Token       string    // bearer token for later calls; secret
	NUMICMasked string    // e.g. "••••5678"
	FirstNames  string    // for the greeting
	LastName    string    //
	LastLogin   time.Time // the login before this one; zero on the first
	ExpiresAt   time.Time
}

// Outbox is offered by a local portal in demonstration mode: the messages
// it would have sent, so that a person trying the app can read the e-mail
// and SMS and follow the link. A real backend never offers it.
type Outbox interface {
	Messages(ctx context.Context, limit int) ([]Message, error)
}

// Message is one e-mail or SMS of the demonstration outbox.
type Message struct {
	ID        int64
	Channel   string // "email" or "sms"
	To        string
	Subject   string
	Text      string // the plain-text body, decoded
	State     string // "pending", "sent", "failed"
	CreatedAt time.Time
}
