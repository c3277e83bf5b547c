package portal

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Desk is what the help desk adds to the office: a change of the e-mail
// address or mobile number on file, proposed by one agent after an
// identity check and approved by another, and renewals started for a
// voter. No method takes or returns a credential, a link or a code: an
// agent can start a renewal, never choose or see what it sends (OWASP
// ASVS 5.0, 6.4.6).
type Desk interface {
	// ProposeContactChange records a proposal to change a voter's e-mail
	// or mobile (agent). Nothing changes until another agent approves it.
	ProposeContactChange(ctx context.Context, token string, req ContactChangeRequest) (ContactChange, error)
	// PendingContactChanges lists the proposals awaiting approval, oldest
	// first (agent).
	PendingContactChanges(ctx context.Context, token string) ([]ContactChange, error)
	// ApproveContactChange applies a pending proposal (an agent other than
	// its proposer, with the role the configuration requires). Of
	// concurrent approvals, one applies the change; the others get
	// ErrChangeDecided.
	ApproveContactChange(ctx context.Context, token string, id int64) (ContactChange, error)
	// RejectContactChange closes a pending proposal without applying it
	// (any agent; the proposer withdraws it this way). The reason is
	// required.
	RejectContactChange(ctx context.Context, token string, id int64, reason string) (ContactChange, error)
	// StartRenewal sends the voter, at what is on file, the usual renewal
	// of kind: the single-use link by e-mail (identifier) or a new
	// password by SMS (password), with every rule of the voter's own
	// request applied (agent). The answer says where it went, never what.
	StartRenewal(ctx context.Context, token string, voterID int64, kind RenewalKind, reason string) (DeskRenewal, error)
}

// Document is the identity document an agent saw before proposing a
// change of contact details.
type Document string

// The documents the consulates' procedure accepts.
const (
	DocPassport      Document = "passport"
	DocIDCard        Document = "id_card"
	DocConsularCard  Document = "consular_card"
	DocResidenceCard Document = "residence_card"
	DocOther         Document = "other" // the reason says which
)

// Documents lists the documents in the order the desk offers them.
var Documents = []Document{DocPassport, DocIDCard, DocConsularCard, DocResidenceCard, DocOther}

// Valid reports whether d is one of Documents.
func (d Document) Valid() bool {
	for _, k := range Documents {
		if d == k {
			return true
		}
	}
	return false
}

// ContactChangeRequest is a proposal to change what is on file. An empty
// Email or Mobile keeps the current one.
type ContactChangeRequest struct {
	VoterID  int64    `json:"-"` // in the route
	Email    string   `json:"email"`
	Mobile   string   `json:"mobile"`
	Document Document `json:"document"`
	Reason   string   `json:"reason"`
}

// Normalize returns the request with its fields normalized.
func (r ContactChangeRequest) Normalize() ContactChangeRequest {
	r.Email = NormalizeEmail(r.Email)
	r.Mobile = NormalizeMobile(r.Mobile)
	r.Reason = strings.TrimSpace(r.Reason)
	return r
}

// MaxReasonLen is the longest reason an agent may type.
const MaxReasonLen = 500

// Validate checks a normalized request and lists every invalid field.
func (r ContactChangeRequest) Validate() error {
	var fs []FieldError
	switch {
	case r.Email == "" && r.Mobile == "":
		fs = append(fs, FieldError{FieldEmail, ReasonRequired}, FieldError{FieldMobile, ReasonRequired})
	case r.Email != "" && !ValidEmail(r.Email):
		fs = append(fs, FieldError{FieldEmail, ReasonFormat})
	}
	if r.Mobile != "" && !ValidMobile(r.Mobile) {
		fs = append(fs, FieldError{FieldMobile, ReasonFormat})
	}
	if r.Document == "" {
		fs = append(fs, FieldError{FieldDocument, ReasonRequired})
	} else if !r.Document.Valid() {
		fs = append(fs, FieldError{FieldDocument, ReasonFormat})
	}
	if err := CheckReason(r.Reason); err != nil {
		fs = append(fs, FieldErrors(err)...)
	}
	return InvalidInput(fs...)
}

// CheckReason checks the reason an agent typed for an action (trimmed).
func CheckReason(r string) error {
	switch {
	case strings.TrimSpace(r) == "":
		return InvalidInput(FieldError{FieldReason, ReasonRequired})
	case len(r) > MaxReasonLen || !utf8.ValidString(r):
		return InvalidInput(FieldError{FieldReason, ReasonTooLong})
	}
	return nil
}

// ChangeState is where a proposal stands.
type ChangeState string

// The states of a proposal. Only a pending one can be decided.
const (
	ChangePending   ChangeState = "pending"
	ChangeApproved  ChangeState = "approved"
	ChangeRejected  ChangeState = "rejected"
	ChangeWithdrawn ChangeState = "withdrawn" // rejected by its proposer
	ChangeExpired   ChangeState = "expired"
)

// ContactChange is a proposal as the desk sees it.
type ContactChange struct {
	ID         int64       `json:"id"`
	VoterID    int64       `json:"voter_id"`
	NUMIC      string      `json:"numic"`
	VoterName  string      `json:"voter_name"`
	OldEmail   string      `json:"old_email"`
	NewEmail   string      `json:"new_email"` // "" when unchanged
	OldMobile  string      `json:"old_mobile"`
	NewMobile  string      `json:"new_mobile"` // "" when unchanged
	Document   Document    `json:"document"`
	Reason     string      `json:"reason"`
	ProposedBy string      `json:"proposed_by"` // agent name
	ProposedAt time.Time   `json:"proposed_at"`
	ExpiresAt  time.Time   `json:"expires_at"`
	State      ChangeState `json:"state"`
	DecidedBy  string      `json:"decided_by,omitempty"`
	DecidedAt  time.Time   `json:"decided_at"`
	// DecisionReason is why it was rejected or withdrawn.
	DecisionReason string `json:"decision_reason,omitempty"`
}

// RenewalKind is the credential a desk renewal renews.
type RenewalKind string

// The kinds of renewal the desk can start.
const (
	RenewIdentifier RenewalKind = "identifier" // a single-use link by e-mail
	RenewPassword   RenewalKind = "password"   // a new password by SMS
)

// DeskRenewal says where a renewal started by the desk went: the channel
// and the address on file, and until when a link lives. Never what was
// sent.
type DeskRenewal struct {
	Kind      RenewalKind `json:"kind"`
	Channel   string      `json:"channel"` // "email" or "sms"
	Recipient string      `json:"recipient"`
	ExpiresAt time.Time   `json:"expires_at"` // the link's; zero for a password
}

// Errors of the desk.
var (
	// ErrSelfApproval: the proposer cannot approve its own proposal.
	ErrSelfApproval = &Error{Code: CodeSelfApproval}
	// ErrChangePending: the voter already has a proposal awaiting approval.
	ErrChangePending = &Error{Code: CodeChangePending}
	// ErrChangeDecided: the proposal was approved, rejected or withdrawn.
	ErrChangeDecided = &Error{Code: CodeChangeDecided}
	// ErrChangeExpired: the proposal was not approved in time.
	ErrChangeExpired = &Error{Code: CodeChangeExpired}
	// ErrContactStale: what is on file changed since the proposal.
	ErrContactStale = &Error{Code: CodeContactStale}
	// ErrNoMobile: no mobile number in E.164 form on file for an SMS.
	ErrNoMobile = &Error{Code: CodeNoMobile}
)

// e164 is an international mobile number: "+", a country code, up to 15
// digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidMobile reports whether s is a mobile number in E.164 form.
func ValidMobile(s string) bool { return e164.MatchString(s) }

// NormalizeMobile writes a mobile number in E.164 as far as it can: no
// spaces, dots, dashes or brackets, and "00" becomes "+".
func NormalizeMobile(s string) string {
	var b bytes.Buffer
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9', r == '+':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return s // left as typed: ValidMobile will refuse it
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	return out
}
