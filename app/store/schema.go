package store

// migrations are applied in order, each in its own transaction, and never
// edited once released: a change to the schema is a new entry.
//
// Times are Unix nanoseconds (INTEGER), NULL when unset. Credentials are
// only keyed hashes (BLOB) or argon2id strings; outbox bodies are sealed.
var migrations = []string{
	// 1: the renewal service.
	`
CREATE TABLE voters (
	id                    INTEGER PRIMARY KEY,
	numic                 TEXT NOT NULL UNIQUE,
	email                 TEXT NOT NULL,
	last_name             TEXT NOT NULL DEFAULT '',
	first_names           TEXT NOT NULL DEFAULT '',
	mobile                TEXT NOT NULL DEFAULT '',
	circonscription       TEXT NOT NULL DEFAULT '',
	lang                  TEXT NOT NULL DEFAULT 'fr',
	identifier_hash       BLOB UNIQUE,
	password_hash         TEXT NOT NULL DEFAULT '',
	failed_attempts       INTEGER NOT NULL DEFAULT 0,
	locked_until          INTEGER,
	identifier_renewed_at INTEGER,
	password_renewed_at   INTEGER,
	last_login_at         INTEGER
);

CREATE TABLE links (
	id          INTEGER PRIMARY KEY,
	voter_id    INTEGER NOT NULL REFERENCES voters(id),
	kind        TEXT NOT NULL CHECK (kind IN ('identifier', 'password')),
	token_hash  BLOB NOT NULL UNIQUE,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	used_at     INTEGER,
	replaced_at INTEGER,
	revoked_at  INTEGER
);
-- Pending links of a voter: the lookups of replace, revoke and "not both".
CREATE INDEX links_pending ON links(voter_id, kind)
	WHERE used_at IS NULL AND replaced_at IS NULL AND revoked_at IS NULL;

CREATE TABLE security_codes (
	id         TEXT PRIMARY KEY,
	code_hash  BLOB NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX security_codes_expiry ON security_codes(expires_at);

CREATE TABLE rate_events (
	key BLOB NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX rate_events_key ON rate_events(key, at);

CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	voter_id        INTEGER REFERENCES voters(id),
	channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
	kind            TEXT NOT NULL,
	recipient       TEXT NOT NULL,
	subject         TEXT NOT NULL DEFAULT '',
	body            BLOB NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER,
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE state = 'pending';

CREATE TABLE audit (
	id       INTEGER PRIMARY KEY,
	at       INTEGER NOT NULL,
	actor    TEXT NOT NULL,
	action   TEXT NOT NULL,
	voter_id INTEGER REFERENCES voters(id),
	detail   TEXT NOT NULL DEFAULT '',
	-- app/audit: the row's seal, and the checkpoint that signed it (0: none yet).
	mac        BLOB NOT NULL,
	checkpoint INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_voter ON audit(voter_id) WHERE voter_id IS NOT NULL;
CREATE INDEX audit_unsigned ON audit(id) WHERE checkpoint = 0;

CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY,
	voter_id   INTEGER NOT NULL REFERENCES voters(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_voter ON sessions(voter_id);
`,
	// 2: the consular office: agents and their sessions, lookups by e-mail.
	`
CREATE TABLE agents (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE agent_sessions (
	token_hash BLOB PRIMARY KEY,
	agent_id   INTEGER NOT NULL REFERENCES agents(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);

CREATE INDEX voters_email ON voters(email);
`,
	// 3: first-credentials campaigns: who got what, once per campaign.
	`
CREATE TABLE campaign_sends (
	campaign TEXT NOT NULL,
	voter_id INTEGER NOT NULL REFERENCES voters(id),
	sent_at  INTEGER NOT NULL,
	PRIMARY KEY (campaign, voter_id)
);
CREATE INDEX voters_no_credentials ON voters(id) WHERE identifier_hash IS NULL;
`,
	// 4: agents are locked after repeated wrong passwords, like voters.
	`
ALTER TABLE agents ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN locked_until INTEGER;
`,
	// 5: password and code attempts are reserved in a window before they
	// are checked (failed_attempts counts the window's reservations).
	`
ALTER TABLE voters ADD COLUMN attempts_until INTEGER;
`,
	// 6: throttles of agent logins per source (agents.failed_attempts and
	// locked_until are no longer used: a lock on the name alone let anyone
	// lock an admin out).
	`
CREATE TABLE throttles (
	key           BLOB PRIMARY KEY,
	attempts      INTEGER NOT NULL DEFAULT 0,
	window_until  INTEGER,
	blocked_until INTEGER,
	blocks        INTEGER NOT NULL DEFAULT 0
);
`,
	// 7: the outbox's depth by state and channel, and its oldest message,
	// read at every metrics scrape from the unsent messages only.
	`
CREATE INDEX outbox_unsent ON outbox(state, channel, created_at) WHERE state <> 'sent';
`,
	// 8: agents' second factor (TOTP, its secret sealed) and recovery codes.
	`
ALTER TABLE agents ADD COLUMN totp_secret BLOB;
ALTER TABLE agents ADD COLUMN totp_step INTEGER;
CREATE TABLE agent_recovery_codes (
	agent_id  INTEGER NOT NULL REFERENCES agents(id),
	code_hash BLOB NOT NULL,
	PRIMARY KEY (agent_id, code_hash)
);
`,
	// 9: the help desk's changes of contact details, proposed by one
	// agent and approved by another; what the desk set, the roll import
	// keeps.
	`
ALTER TABLE voters ADD COLUMN email_by_desk INTEGER;
ALTER TABLE voters ADD COLUMN mobile_by_desk INTEGER;

CREATE TABLE contact_changes (
	id              INTEGER PRIMARY KEY,
	voter_id        INTEGER NOT NULL REFERENCES voters(id),
	old_email       TEXT NOT NULL,
	new_email       TEXT NOT NULL DEFAULT '',
	old_mobile      TEXT NOT NULL,
	new_mobile      TEXT NOT NULL DEFAULT '',
	document        TEXT NOT NULL,
	reason          TEXT NOT NULL,
	proposed_by     INTEGER NOT NULL REFERENCES agents(id),
	proposed_at     INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn', 'expired')),
	decided_by      INTEGER REFERENCES agents(id),
	decided_at      INTEGER,
	decision_reason TEXT NOT NULL DEFAULT ''
);
-- One proposal pending per voter, whatever the concurrency.
CREATE UNIQUE INDEX contact_changes_one_pending ON contact_changes(voter_id) WHERE state = 'pending';
CREATE INDEX contact_changes_expiry ON contact_changes(expires_at) WHERE state = 'pending';
CREATE INDEX contact_changes_voter ON contact_changes(voter_id, id);
`,
	// 10: rate events older than every window are purged in batches, by
	// time.
	`
CREATE INDEX rate_events_at ON rate_events(at);
`,
	// 11: the audit log's checkpoints (app/audit).
	`
CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	row_count INTEGER NOT NULL,
	digest    BLOB NOT NULL,
	mac       BLOB NOT NULL
);
`,
}
