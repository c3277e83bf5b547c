package service

import (
	"fmt"
	"net/url"
	"regexp"
	"time"

	"consulvote/app/mail"
	"consulvote/app/portal"
	"consulvote/app/seal"
)

// Config holds the rules of renewal. The zero value is not usable: start
// from DefaultConfig and set Secret and PublicURL.
type Config struct {
	// Secret keys the hashes of identifiers, link tokens and security
	// codes, and seals the outbox. At least 32 random bytes, kept beside
	// the database, never in it.
	Secret []byte
	// PublicURL is the base of the links sent by e-mail.
	PublicURL string
	// NUMICPattern is the shape of a NUMIC once spaces are removed.
	NUMICPattern string

	LinkTTL      time.Duration // how long a renewal link lives
	CodeTTL      time.Duration // how long a security code lives
	SessionTTL   time.Duration // how long a voter session lives
	MaxFailures  int           // wrong passwords or codes before a lock
	LockDuration time.Duration
	MaxRequests  int           // renewal requests per NUMIC per RateWindow
	RateWindow   time.Duration //
	Cooldown     time.Duration // between renewals of the two credentials
	// RequestFloor is the least time a renewal request takes to answer,
	// matched or not: a match does a little more work (about 0.15 ms
	// here), and the floor hides it.
	RequestFloor time.Duration
	// Requests whose data match no voter (a wrong e-mail for the NUMIC, a
	// wrong identifier) do not spend the NUMIC's MaxRequests, or anyone
	// holding a NUMIC could block that voter's renewals; they are limited
	// per source address (SourceRequests per RateWindow, in the database)
	// and overall (UnmatchedRequests per RateWindow, per instance).
	SourceRequests, UnmatchedRequests int

	// CheckpointEvery is how often a checkpoint signs the audit rows
	// committed since the last one (the server and the app do it);
	// VerifyAuditLog reports rows older than twice that which no
	// checkpoint covers.
	CheckpointEvery time.Duration
	// CheckpointWait bounds one checkpoint, its wait for the checkpoints'
	// lock included (0: DefaultCheckpointWait).
	CheckpointWait time.Duration

	Argon2 Argon2Params
	// HashWorkers is how many password hashes may run at once (0: the
	// number of cores), HashQueue how many more may wait for one (0: 32
	// per worker). Past them a login is refused at once as unavailable:
	// each hash holds 19 MiB, and a queue that grows without end is a
	// memory exhaustion and answers nobody in time.
	HashWorkers int
	HashQueue   int
	Mail        mail.Letterhead

	// ApprovalRole is who may approve a change of contact details that
	// another agent proposed: portal.RoleAdmin (an administrator, the
	// default) or portal.RoleAgent (any other agent).
	ApprovalRole portal.Role
	// ChangeTTL is how long a proposal waits for its approval.
	ChangeTTL time.Duration
	// DeskRenewals is how many renewals one agent may start per
	// RateWindow, over all voters: a stolen or misused agent session
	// cannot reset the whole roll's passwords.
	DeskRenewals int
}

// Argon2Params are the argon2id cost parameters for new password hashes.
// Existing hashes keep the parameters they were made with.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// OWASP's minimum recommendation for argon2id (Password Storage Cheat
// Sheet): 19 MiB, 2 iterations, 1 degree of parallelism.
var minArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// DefaultConfig returns the rules of product.md.
func DefaultConfig() Config {
	return Config{
		PublicURL:       "https://vote.consulvote.invalid",
		NUMICPattern:    `^[0-9]{6,12}$`,
		LinkTTL:         time.Hour,
		CodeTTL:         5 * time.Minute,
		SessionTTL:      30 * time.Minute,
		MaxFailures:     5,
		LockDuration:    15 * time.Minute,
		MaxRequests:     3,
		RateWindow:      time.Hour,
		Cooldown:        24 * time.Hour,
		RequestFloor:    20 * time.Millisecond,
		CheckpointEvery: time.Minute,
		Argon2:          minArgon2,
		ApprovalRole:    portal.RoleAdmin,
		ChangeTTL:       48 * time.Hour,
		DeskRenewals:    60,
		// Requests that match no voter.
		SourceRequests: 10, UnmatchedRequests: 3600,
		// The label and the signature: the templates' words in each
		// language (app/mail/templates/letterhead.LANG.head).
		Mail: mail.Letterhead{From: "MEAE Administration de l'élection consulaire <administration@consulvote.invalid>"},
	}
}

// Validate checks every setting and names the first bad one.
func (c Config) Validate() error {
	bad := func(name, why string) error { return fmt.Errorf("config: %s: %s", name, why) }
	if len(c.Secret) < seal.KeySize {
		return bad("secret", fmt.Sprintf("must be at least %d bytes", seal.KeySize))
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return bad("public URL", fmt.Sprintf("%q is not an http(s) base URL", c.PublicURL))
	}
	if _, err := regexp.Compile(c.NUMICPattern); err != nil || c.NUMICPattern == "" {
		return bad("NUMIC pattern", fmt.Sprintf("%q is not a regular expression", c.NUMICPattern))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"link lifetime", c.LinkTTL}, {"security code lifetime", c.CodeTTL},
		{"session lifetime", c.SessionTTL}, {"lock duration", c.LockDuration},
		{"rate window", c.RateWindow}, {"cool-down", c.Cooldown}, {"checkpoint period", c.CheckpointEvery},
		{"change approval lifetime", c.ChangeTTL},
	} {
		if d.v <= 0 {
			return bad(d.name, "must be positive")
		}
	}
	if c.RequestFloor < 0 || c.RequestFloor > 10*time.Second {
		return bad("request floor", "must be between 0 and 10s")
	}
	if c.HashWorkers < 0 || c.HashQueue < 0 {
		return bad("hash workers", "must not be negative")
	}
	if c.MaxFailures < 1 {
		return bad("max failures", "must be at least 1")
	}
	if c.MaxRequests < 1 || c.SourceRequests < 1 || c.UnmatchedRequests < 1 {
		return bad("max requests", "must be at least 1, per NUMIC, per source and overall")
	}
	if c.DeskRenewals < 1 {
		return bad("desk renewals", "must be at least 1")
	}
	if c.ApprovalRole != portal.RoleAdmin && c.ApprovalRole != portal.RoleAgent {
		return bad("contact approval", fmt.Sprintf("%q: admin or agent", c.ApprovalRole))
	}
	a := c.Argon2
	if a.MemoryKiB < minArgon2.MemoryKiB || a.Time < minArgon2.Time || a.Threads < minArgon2.Threads {
		return bad("argon2", fmt.Sprintf("m=%d KiB, t=%d, p=%d is below m=%d, t=%d, p=%d",
			a.MemoryKiB, a.Time, a.Threads, minArgon2.MemoryKiB, minArgon2.Time, minArgon2.Threads))
	}
	if err := c.Mail.Validate(); err != nil {
		return bad("mail sender", err.Error())
	}
	return nil
}
