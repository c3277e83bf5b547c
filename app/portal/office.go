package portal

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"consulvote/app/audit"
)

// Office is what the consular office's screens ("Espace consulat") call.
// Every method but AgentLogin takes the agent's session token; the service
// checks it and the agent's role on each call, whatever the screens show.
type Office interface {
	// AgentLogin opens an agent's session; code is the one-time code of
	// the agent's second factor (TOTP) or one of its recovery codes.
	AgentLogin(ctx context.Context, name, password, code string) (AgentSession, error)
	AgentLogout(ctx context.Context, token string) error

	// FindVoters looks voters up by NUMIC or e-mail address (agent).
	FindVoters(ctx context.Context, token, query string) ([]VoterSummary, error)
	// VoterFile is a voter's status and history, never a secret (agent).
	VoterFile(ctx context.Context, token string, voterID int64) (VoterFile, error)
	// UnlockVoter lifts a lock (agent); the reason goes to the audit log.
	UnlockVoter(ctx context.Context, token string, voterID int64, reason string) error
	// CancelLinks kills the voter's pending renewal links (agent).
	CancelLinks(ctx context.Context, token string, voterID int64, reason string) (int, error)

	// OutboxStatus counts messages by state and lists the failed ones (agent).
	OutboxStatus(ctx context.Context, token string) (OutboxStatus, error)
	// RetryMessage puts a failed message back in the queue (agent).
	RetryMessage(ctx context.Context, token string, messageID int64, reason string) error

	// VerifyAudit checks the audit log's chain and checkpoints (admin).
	VerifyAudit(ctx context.Context, token string) (AuditReport, error)
	// AuditEntries lists the newest audit entries that match f (admin).
	AuditEntries(ctx context.Context, token string, f AuditFilter) ([]HistoryEntry, error)

	Desk
}

// Role is what an agent may do: an admin may do everything an agent may,
// and manage the roll and the audit log.
type Role string

// The roles.
const (
	RoleAgent Role = "agent"
	RoleAdmin Role = "admin"
)

// AgentSession is an agent's open session.
type AgentSession struct {
	Token     string    `json:"token"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
	// May is what the agent may do, from its role and the service's
	// settings at login: the screens offer only that.
	May Permissions `json:"may"`
	// Scope is which voters the agent sees: the screens say it.
	Scope Scope `json:"scope"`
}

// Permissions says what an agent may do. The service decides it, from
// the agent's role and its own settings (who approves a change of
// contact details), and checks it again on every call: a screen that
// offered more would only hear "forbidden".
type Permissions struct {
	// ApproveContactChanges: approve a change of contact details that
	// another agent proposed (never one's own).
	ApproveContactChanges bool `json:"approve_contact_changes"`
	// ManageRoll: import the electoral roll and send first credentials.
	ManageRoll bool `json:"manage_roll"`
	// Audit: read the audit log and verify its chain.
	Audit bool `json:"audit"`
}

// VoterSummary is a line of a voter search.
type VoterSummary struct {
	ID              int64  `json:"id"`
	NUMIC           string `json:"numic"`
	LastName        string `json:"last_name"`
	FirstNames      string `json:"first_names"`
	Email           string `json:"email"`
	Circonscription string `json:"circonscription"`
}

// VoterFile is what an agent sees of a voter: state and history, no secret.
type VoterFile struct {
	VoterSummary
	Mobile              string         `json:"mobile"`
	HasIdentifier       bool           `json:"has_identifier"`
	HasPassword         bool           `json:"has_password"`
	FailedAttempts      int            `json:"failed_attempts"`
	LockedUntil         time.Time      `json:"locked_until"`
	IdentifierRenewedAt time.Time      `json:"identifier_renewed_at"`
	PasswordRenewedAt   time.Time      `json:"password_renewed_at"`
	LastLoginAt         time.Time      `json:"last_login_at"`
	PendingLinks        []PendingLink  `json:"pending_links,omitempty"`
	Messages            []MessageState `json:"messages,omitempty"`
	History             []HistoryEntry `json:"history,omitempty"` // newest first
	// ContactChanges are the voter's latest proposals, newest first: a
	// pending one is there with its expiry.
	ContactChanges []ContactChange `json:"contact_changes,omitempty"`
}

// PendingLink is a renewal link that can still be used.
type PendingLink struct {
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MessageState is a queued message without its content.
type MessageState struct {
	ID        int64     `json:"id"`
	Channel   string    `json:"channel"`
	Kind      string    `json:"kind"`
	Recipient string    `json:"recipient"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	// Delivery is what became of a sent message after the relay or the
	// gateway took it (DeliveryStates; "" while nothing is known), from
	// the recipient's server's report or the gateway's receipt;
	// DeliveryStatus is the remote answer ("5.1.1 … User unknown", a
	// gateway's error code), DeliveryAt when it came.
	Delivery       string    `json:"delivery,omitempty"`
	DeliveryStatus string    `json:"delivery_status,omitempty"`
	DeliveryAt     time.Time `json:"delivery_at,omitzero"`
}

// Stage is where the message stands, in one word of Stages: queued,
// relayed, failed (the relay never took it), or its Delivery.
func (m MessageState) Stage() string {
	switch {
	case m.State == "pending":
		return "queued"
	case m.State == "failed":
		return "failed"
	case m.Delivery != "":
		return m.Delivery
	}
	return "relayed"
}

// UserUnknown reports whether the recipient's server refused the address
// itself (RFC 3463 5.1.1, 5.1.10; or says so in words): the voter's
// address on file is wrong, a contact change is the remedy.
func (m MessageState) UserUnknown() bool {
	if m.Delivery != "refused" {
		return false
	}
	s := strings.ToLower(m.DeliveryStatus)
	return strings.Contains(s, "5.1.1 ") || strings.HasSuffix(s, "5.1.1") || strings.Contains(s, "5.1.10") ||
		strings.Contains(s, "user unknown") || strings.Contains(s, "no such user") || strings.Contains(s, "unknown user")
}

// HistoryEntry is an audit entry about a voter. Params holds the
// entry's facts by name (reason, document, approver, old and new
// addresses…), so that a screen can say it in words in its own language;
// Detail is the entry as stored.
type HistoryEntry struct {
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"`
	Detail string            `json:"detail"`
	Params map[string]string `json:"params,omitempty"`
}

// OutboxStatus is the outbox at a glance.
type OutboxStatus struct {
	Counts map[string]int `json:"counts"` // by state: pending, sent, failed
	Failed []MessageState `json:"failed,omitempty"`
	// Stages counts the messages by Stage, every stage present.
	Stages map[string]int `json:"stages,omitempty"`
	// Domains are the e-mail recipients' domains with the most relayed
	// messages (at most MaxDomains), most first: how many the relay took
	// and how many of them the domain's servers refused.
	Domains []DomainDelivery `json:"domains,omitempty"`
}

// DomainDelivery is one recipients' domain in OutboxStatus.
type DomainDelivery struct {
	Domain  string `json:"domain"`
	Relayed int    `json:"relayed"`
	Refused int    `json:"refused"`
}

// MaxDomains bounds OutboxStatus.Domains.
const MaxDomains = 8

// AuditReport is the result of an audit verification.
type AuditReport struct {
	Rows     int      `json:"rows"`
	Problems []string `json:"problems,omitempty"` // each names its row, in English; empty when intact
	// Findings are the same problems as codes, for the screens to say in
	// the agent's language.
	Findings []AuditFinding `json:"findings,omitempty"`
}

// AuditFinding is one problem of the audit log: the row or the checkpoint
// where it shows, its cause (one of AuditCauses) and the numbers that go
// with it.
type AuditFinding struct {
	Row        int64  `json:"row,omitempty"`
	Checkpoint int64  `json:"checkpoint,omitempty"`
	Cause      string `json:"cause"`
	N          int64  `json:"n,omitempty"`
	M          int64  `json:"m,omitempty"`
}

// AuditCauses are the causes of AuditFinding, as app/audit says them
// (its constants tell each one's N and M).
var AuditCauses = audit.Causes

// Errors of the office.
var (
	ErrUnauthorized = &Error{Code: CodeUnauthorized} // no session, or expired
	ErrForbidden    = &Error{Code: CodeForbidden}    // the role does not allow it
	ErrNotFound     = &Error{Code: CodeNotFound}
)

// RollAdmin is offered by the local service to an admin: importing the
// electoral roll and sending first credentials, with progress. Both stop
// cleanly when ctx is cancelled.
type RollAdmin interface {
	ImportRollAs(ctx context.Context, token string, r io.Reader, progress func(ImportReport)) (ImportReport, error)
	SendFirstCredentialsAs(ctx context.Context, token, campaign string, progress func(CampaignReport)) (CampaignReport, error)
}

// AuditFilter narrows the audit viewer: substrings of the actor and of
// the action, and a voter's NUMIC.
type AuditFilter struct {
	Actor  string `json:"actor"`
	Action string `json:"action"`
	NUMIC  string `json:"numic"`
}

// ImportProblem is one refused line of a roll file.
type ImportProblem struct {
	Line   int    // 1 is the header
	Column string // one of the roll's columns, or "" for the whole line
	// Code says what is wrong, for a sentence in the reader's language;
	// N is its number, where it has one: the columns found
	// (ProblemColumns), the line the NUMIC was first on
	// (ProblemDuplicate), the most characters allowed (ProblemTooLong).
	Code ProblemCode
	N    int
	// Reason is the problem in English, for the command line's report.
	Reason string
}

// ProblemCode says what is wrong with a roll line.
type ProblemCode string

// The problems a roll line can have.
const (
	ProblemCSV         ProblemCode = "csv"           // a quote that does not close on its line
	ProblemQuote       ProblemCode = "quote"         // a quote in the middle of a field
	ProblemLineTooLong ProblemCode = "line_too_long" // the line is longer than N bytes
	ProblemColumns     ProblemCode = "columns"       // not the 6 columns (N: how many)
	ProblemNotUTF8     ProblemCode = "not_utf8"      // text that is not UTF-8
	ProblemControl     ProblemCode = "control"       // an invisible control character
	ProblemMissing     ProblemCode = "missing"       // Column is empty
	ProblemFormat      ProblemCode = "format"        // Column is not what it should be
	ProblemTooLong     ProblemCode = "too_long"      // Column is longer than N characters
	ProblemDuplicate   ProblemCode = "duplicate"     // the NUMIC was already on line N
)

// ProblemCodes lists every ProblemCode, for translations to cover.
var ProblemCodes = []ProblemCode{ProblemCSV, ProblemQuote, ProblemLineTooLong, ProblemColumns, ProblemNotUTF8, ProblemControl, ProblemMissing,
	ProblemFormat, ProblemTooLong, ProblemDuplicate}

// ImportDifference is a roll line that would have undone an approved
// change of contact details: the desk's value is kept, the roll's is
// reported.
type ImportDifference struct {
	Line   int
	NUMIC  string
	Column string    // "adresse électronique" or "mobile", as in the roll
	Kept   string    // what the desk set, still on file
	Roll   string    // what the roll has, not applied
	Since  time.Time // when the desk set it
}

// ImportReport says what an import did.
type ImportReport struct {
	Lines int // data lines read
	// FileLines is how many lines the file has after its header, empty
	// ones included: the summary says Lines against it, so a line left
	// unread shows.
	FileLines int
	Inserted  int
	Updated   int
	Unchanged int
	Problems  []ImportProblem
	// Differences are the lines whose e-mail or mobile differs from what
	// the help desk set after an approved change: the desk's value was
	// kept.
	Differences []ImportDifference
	Elapsed     time.Duration
	Cancelled   bool
}

// RowsPerSecond is the import's speed.
func (r ImportReport) RowsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Lines) / r.Elapsed.Seconds()
}

// ProblemsCSV writes the refused lines, then the differences with the
// desk's changes, as a CSV file, in English (the command line's report).
func (r ImportReport) ProblemsCSV(w io.Writer) error {
	return r.ProblemsCSVIn(w, [3]string{"line", "column", "reason"},
		func(p ImportProblem) string { return p.Reason },
		func(d ImportDifference) string {
			return fmt.Sprintf("NUMIC %s: differs from the value the desk changed on %s: kept %s, the roll has %s",
				d.NUMIC, d.Since.UTC().Format("2006-01-02 15:04 UTC"), d.Kept, d.Roll)
		})
}

// ProblemsCSVIn is ProblemsCSV in another language: header names the
// three columns, problem and difference word each line.
func (r ImportReport) ProblemsCSVIn(w io.Writer, header [3]string, problem func(ImportProblem) string, difference func(ImportDifference) string) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.Write(header[:])
	for _, p := range r.Problems {
		cw.Write([]string{strconv.Itoa(p.Line), p.Column, problem(p)})
	}
	for _, d := range r.Differences {
		cw.Write([]string{strconv.Itoa(d.Line), d.Column, difference(d)})
	}
	cw.Flush()
	return cw.Error()
}

// CampaignReport says where a first-credentials campaign stands.
type CampaignReport struct {
	Sent      int // voters given credentials by this run
	Skipped   int // voters with no valid mobile: left for the desk
	Elapsed   time.Duration
	Cancelled bool
}
