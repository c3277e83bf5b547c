// Package backend is the wiring, once, for every program: from one Config
// it opens the secret key, the store and the service, and runs the outbox
// worker and the audit checkpoints; Close stops and closes them in order.
// The GUI's local mode, `consulvoted serve` and the headless commands all
// open the portal through it.
package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"consulvote/app/bounce"
	"consulvote/app/keyfile"
	"consulvote/app/mail"
	"consulvote/app/outbox"
	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/sqlstore"
)

// Config is what opening the back end takes. The zero value is not
// usable: Database is required; everything else has a default.
type Config struct {
	// Database is the SQLite file, or a PostgreSQL URL
	// (postgres://user:password@host:port/database?sslmode=verify-full):
	// the central service, where several instances share one database.
	// A URL of another kind, or a key=value connection string, is refused:
	// it is never taken for a file name.
	Database string
	// KeyFile is the secret key of the hashes and of the sealed outbox
	// (default with SQLite: Database + ".key"; required with PostgreSQL,
	// where nothing is "beside the database"). Never inside the database:
	// a copy of the database alone reveals no link and allows no offline
	// guessing. Every instance on one PostgreSQL database uses the same
	// key; the database remembers the key's fingerprint and refuses
	// another.
	KeyFile string
	// Create makes the database and its key when they are missing. Without
	// it both must exist: a mistyped path is an error, not a new, empty
	// portal. (A PostgreSQL database is made by its administrator; Create
	// then only makes the key file and the schema.)
	Create bool
	// Demo fills an empty database with the demonstration roll.
	Demo bool

	// PublicURL is the base of the links sent by e-mail (default: the
	// service's placeholder, for local use).
	PublicURL string
	// From is the sender of the e-mails queued (default: the service's).
	From string

	// SMTP is the mail relay (smtp://user:pass@host:port or smtps://…),
	// SMTPTLS its TLS mode (outbox.ParseSMTPURL). Without a relay, e-mails
	// stay in the outbox.
	SMTP, SMTPTLS string
	// SMSFallback is a second SMS gateway (same API), SMSFallbackToken
	// its bearer token: an SMS the first reports undelivered or expired,
	// or does not confirm within SMSFallbackAfter (10 min), is sent once
	// through it. SMSFallbackReceiptToken authenticates its receipts
	// (POST /sms/receipts/fallback).
	SMSFallback, SMSFallbackToken, SMSFallbackReceiptToken string
	SMSFallbackAfter                                       time.Duration
	// SMSReceiptToken is the bearer token the SMS gateway's delivery
	// receipts carry (POST /sms/receipts/primary); empty: no receipts.
	SMSReceiptToken string
	// BounceAddress is the template of the e-mails' return paths, e.g.
	// "bounce+{ref}@example.org" (app/bounce): each e-mail's envelope
	// sender then names it, signed with the key, and asks the relay for
	// delivery reports. Empty: the sender's address, and no report asked.
	BounceAddress string
	// SMSGateway is the HTTP SMS gateway (https, or http on a loopback
	// address), SMSToken its bearer token. Without one, SMS stay in the
	// outbox.
	SMSGateway, SMSToken string

	// ContactApproval is who approves a change of a voter's e-mail or
	// mobile that another agent proposed: "admin" (the default: an
	// administrator) or "agent" (any other agent).
	ContactApproval string
	// ChangeLifetime is how long such a proposal waits for its approval
	// (default 48 h; from MinChangeLifetime to MaxChangeLifetime).
	ChangeLifetime time.Duration
	// DeskRenewals is how many renewals one agent may start for voters
	// in an hour (default 60; at most MaxDeskRenewals).
	DeskRenewals int
	// MailLabel and MailSignature are the label before every e-mail's
	// subject and the signature under it, by language ("fr", "en"); a
	// language without one gets the templates' words (app/mail).
	MailLabel, MailSignature map[string]string

	// CheckpointEvery is how often Start signs an audit checkpoint
	// (default: a minute).
	CheckpointEvery time.Duration
	// OutboxLease is how long the delivery worker's claim on a batch of
	// messages lasts (default: outbox.Worker's, 2 minutes): a message
	// claimed by an instance that dies is sent by another after it.
	OutboxLease time.Duration
	// ReleaseHashMemory returns each password hash's 19 MiB to the system
	// after it: the app's choice (service.Options).
	ReleaseHashMemory bool
	// Logger receives the service's and the workers' logs (default: none).
	Logger *slog.Logger
	// Observer is told the service's decisions and the deliveries, for
	// the metrics (default: nobody).
	Observer Observer
	// OutboxStall is how long the delivery worker may show no sign of life
	// before Ready reports it stuck (default: 5 minutes; a delivery ends
	// within 3/4 of the worker's 2-minute lease).
	OutboxStall time.Duration
	// Drain is how long Close lets the delivery worker finish the message
	// it is sending (default: 10 s).
	Drain time.Duration
}

// Observer is what the back end's parts report to: the service's
// decisions and the delivery worker's sends (app/metrics implements it).
type Observer interface {
	service.Observer
	outbox.Observer
	// DeliveryState: a message reached a state after the relay
	// (delivered, delayed, refused, expired), recorded here.
	DeliveryState(channel service.Channel, state string)
	// Bounce and Receipt: a message at the bounce intake, a receipt of an
	// SMS gateway, by outcome (bounce.Outcomes, receipt.Outcomes).
	Bounce(outcome string)
	Receipt(outcome string)
}

// ConfigError names the setting that is wrong, by the name of its flag
// (without dashes): "db", "key-file", "smtp"…
type ConfigError struct {
	Setting string
	Why     string
}

func (e *ConfigError) Error() string { return "--" + e.Setting + ": " + e.Why }

// DefaultCheckpointEvery is how often a running back end signs the audit
// chain.
const DefaultCheckpointEvery = time.Minute

// IsURL reports whether a --db value is a database URL or connection
// string rather than a file.
func IsURL(db string) bool {
	scheme, _, ok := strings.Cut(db, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, `/\`) || strings.HasPrefix(db, "postgres:") ||
		isKeywordDSN(db)
}

// isKeywordDSN reports a libpq key=value connection string ("host=db
// dbname=vote"): every word a known keyword with a value.
func isKeywordDSN(db string) bool {
	words := strings.Fields(db)
	for _, w := range words {
		k, _, ok := strings.Cut(w, "=")
		switch k {
		case "host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "connect_timeout", "application_name":
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return len(words) > 0
}

// postgres reports whether the database is PostgreSQL.
func (c Config) postgres() bool { return sqlstore.IsURL(c.Database) }

// Validate checks the settings and names the first bad one.
func (c Config) Validate() error {
	switch {
	case c.Database == "":
		return &ConfigError{"db", "required: the path of the database"}
	case c.postgres() && c.KeyFile == "":
		return &ConfigError{"key-file", "required with PostgreSQL: the key of the hashes and of the outbox lives in a file " +
			"apart from the database (the same file on every instance)"}
	case c.postgres():
	case isKeywordDSN(c.Database):
		return &ConfigError{"db", "a key=value connection string: give a PostgreSQL URL, postgres://user:password@host:port/database"}
	case IsURL(c.Database):
		return &ConfigError{"db", fmt.Sprintf("%q is a database URL, but not PostgreSQL's: give postgres://… or a SQLite file path", redact(c.Database))}
	}
	if c.SMTP != "" {
		if _, err := outbox.ParseSMTPURL(c.SMTP, c.SMTPTLS); err != nil {
			return &ConfigError{"smtp", err.Error()}
		}
	}
	if c.SMSFallback != "" {
		if err := portal.CheckServiceURL(c.SMSFallback); err != nil {
			return &ConfigError{"sms-gateway-fallback", err.Error()}
		}
		if c.SMSGateway == "" {
			return &ConfigError{"sms-gateway-fallback", "needs --sms-gateway: it is the second gateway"}
		}
	}
	if c.SMSFallbackAfter < 0 {
		return &ConfigError{"sms-fallback-after", "must not be negative"}
	}
	if c.BounceAddress != "" {
		if _, err := bounce.NewAddresses(c.BounceAddress, []byte("check")); err != nil {
			return &ConfigError{"bounce-address", err.Error()}
		}
	}
	if c.SMSGateway != "" {
		if err := portal.CheckServiceURL(c.SMSGateway); err != nil {
			return &ConfigError{"sms-gateway", err.Error()}
		}
	}
	if c.CheckpointEvery < 0 {
		return &ConfigError{"checkpoint-every", "must not be negative"}
	}
	if c.OutboxStall < 0 {
		return &ConfigError{"outbox-stall", "must not be negative"}
	}
	if c.Drain < 0 {
		return &ConfigError{"stop-timeout", "must not be negative"}
	}
	if c.OutboxLease < 0 || c.OutboxLease > 0 && c.OutboxLease < time.Second {
		return &ConfigError{"outbox-lease", "at least a second"}
	}
	return c.validateRules()
}

// validateRules checks the desk's rules and the letterhead, each named by
// its flag.
func (c Config) validateRules() error {
	if err := checkApproval(c.ContactApproval); c.ContactApproval != "" && err != nil {
		return &ConfigError{"contact-approval", fmt.Sprintf("%q: %v", c.ContactApproval, err)}
	}
	if err := checkChangeLifetime(c.ChangeLifetime); c.ChangeLifetime != 0 && err != nil {
		return &ConfigError{"change-lifetime", fmt.Sprintf("%v: %v", c.ChangeLifetime, err)}
	}
	if err := checkDeskRenewals(c.DeskRenewals); c.DeskRenewals != 0 && err != nil {
		return &ConfigError{"desk-renewals", fmt.Sprintf("%d: %v", c.DeskRenewals, err)}
	}
	for _, words := range []struct {
		flag  string
		by    map[string]string
		check func(string) error
	}{{"mail-label-", c.MailLabel, mail.CheckLabel}, {"mail-signature-", c.MailSignature, mail.CheckSignature}} {
		for lang, v := range words.by {
			if !slices.Contains(mail.Languages, lang) {
				return &ConfigError{words.flag + lang, fmt.Sprintf("the messages are written in %s only", strings.Join(mail.Languages, " and "))}
			}
			if err := words.check(v); v != "" && err != nil {
				return &ConfigError{words.flag + lang, fmt.Sprintf("%q: %v", v, err)}
			}
		}
	}
	return nil
}

// redact hides the password of a URL before it is shown.
func redact(db string) string {
	scheme, rest, ok := strings.Cut(db, "://")
	if !ok {
		return db
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "…@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// keyFile returns the key's path.
func (c Config) keyFile() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return c.Database + ".key"
}

// Store is a store as the back end uses it: the service's transactions,
// the delivery worker's queue, its schema's version for Ready, and Close.
type Store interface {
	service.Store
	outbox.Queue
	io.Closer
	// SchemaVersion reads how many migrations the database has applied;
	// LatestSchema is how many this program knows.
	SchemaVersion(ctx context.Context) (int, error)
	LatestSchema() int
}

var (
	_ Store = (*sqlstore.DB)(nil)
)

// Backend is an open back end.
type Backend struct {
	Service *service.Service
	Store   Store
	// Bounces makes and reads the e-mails' return paths (nil without
	// Config.BounceAddress).
	Bounces *bounce.Addresses

	cfg     Config
	log     *slog.Logger
	mu      sync.Mutex
	stop    context.CancelFunc // ends what Start started; nil before
	running sync.WaitGroup
	// delivery is the worker Start runs (nil: none), started when.
	delivery *outbox.Worker
	started  time.Time
	stopped  bool // Start ran, then Stop
	// every is the checkpoints' period; checkpointOK when one last
	// succeeded (Start: when the first was tried), checkpointErr why the
	// ones since failed.
	every         time.Duration
	checkpointOK  time.Time
	checkpointErr error
}

// Open checks cfg, opens the key, the store and the service, and seeds the
// demonstration roll when asked. Nothing runs in the background until
// Start.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.checkFiles(); err != nil {
		return nil, err
	}
	key, err := keyfile.LoadOrCreate(cfg.keyFile())
	if err != nil {
		return nil, &ConfigError{"key-file", err.Error()}
	}
	db, err := openStore(ctx, cfg, key)
	if err != nil {
		return nil, err
	}
	var obs service.Observer
	if cfg.Observer != nil {
		obs = cfg.Observer
	}
	opts := service.Options{Logger: log, Observer: obs, ReleaseHashMemory: cfg.ReleaseHashMemory}
	if cfg.Demo {
		opts.CodeRand = DemoCodes(key)
	}
	svc, err := service.New(db, cfg.rules(key), opts)
	if err != nil {
		db.Close()
		return nil, serviceError(err)
	}
	if cfg.Demo {
		if err := svc.Operator.SeedDemoRoll(ctx); err != nil && !errors.Is(err, service.ErrRollNotEmpty) {
			db.Close()
			return nil, err
		}
	}
	b := &Backend{Service: svc, Store: db, cfg: cfg, log: log}
	if cfg.BounceAddress != "" {
		b.Bounces, _ = bounce.NewAddresses(cfg.BounceAddress, key) // checked by Validate
	}
	return b, nil
}

// checkFiles refuses, without Create, a SQLite file or a key file that
// does not exist; with Create, it makes the SQLite file's folder.
func (c Config) checkFiles() error {
	type file struct{ setting, path string }
	must := []file{{"key-file", c.keyFile()}}
	if !c.postgres() {
		must = append([]file{{"db", c.Database}}, must...)
	}
	if c.Create {
		if !c.postgres() {
			if err := os.MkdirAll(filepath.Dir(c.Database), 0o700); err != nil {
				return &ConfigError{"db", fmt.Sprintf("database folder: %v", err)}
			}
		}
		return nil
	}
	for _, f := range must {
		if _, err := os.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
			return &ConfigError{f.setting, fmt.Sprintf("%s does not exist", f.path)}
		} else if err != nil {
			return &ConfigError{f.setting, err.Error()}
		}
	}
	return nil
}

// rules are the service's rules: its defaults, with what c sets.
func (c Config) rules(key []byte) service.Config {
	rules := service.DefaultConfig()
	rules.Secret = key
	if c.PublicURL != "" {
		rules.PublicURL = c.PublicURL
	}
	if c.From != "" {
		rules.Mail.From = c.From
	}
	if c.CheckpointEvery > 0 {
		rules.CheckpointEvery = c.CheckpointEvery
	}
	if c.ContactApproval != "" {
		rules.ApprovalRole = portal.Role(c.ContactApproval)
	}
	if c.ChangeLifetime != 0 {
		rules.ChangeTTL = c.ChangeLifetime
	}
	if c.DeskRenewals != 0 {
		rules.DeskRenewals = c.DeskRenewals
	}
	rules.Mail.Label, rules.Mail.Signature = c.MailLabel, c.MailSignature
	return rules
}

// serviceError names the setting the service's rules refused, by its
// flag.
func serviceError(err error) error {
	var setting string
	switch msg := err.Error(); {
	case strings.Contains(msg, "public URL"):
		setting = "public-url"
	case strings.Contains(msg, "mail sender"):
		setting = "from"
	default:
		return err
	}
	return &ConfigError{setting, err.Error()}
}

// openStore opens the SQLite file or the PostgreSQL database. On
// PostgreSQL, the database keeps the key's fingerprint from the first
// start on and refuses another key: an instance started with a wrong key
// file would answer "unknown" to every voter and seal mail no other
// instance can open.
func openStore(ctx context.Context, cfg Config, key []byte) (Store, error) {
	db, err := sqlstore.Open(ctx, cfg.Database)
	if err != nil {
		return nil, &ConfigError{"db", err.Error()}
	}
	if !cfg.postgres() {
		return db, nil
	}
	if err := db.CheckKey(ctx, keyfile.Fingerprint(key)); err != nil {
		db.Close()
		if errors.Is(err, sqlstore.ErrOtherKey) {
			return nil, &ConfigError{"key-file", fmt.Sprintf("%s: %v", cfg.KeyFile, err)}
		}
		return nil, &ConfigError{"db", err.Error()}
	}
	return db, nil
}
