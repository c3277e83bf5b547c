package sqlstore

import "strings"

// schema is the first release's, written once for both databases: {id}
// is an identity primary key, {int} a 64-bit integer, {blob} bytes and
// {bool} a truth value, in each database's type (schemaFor). A later
// change is a new migration appended to both lists, never an edit of
// this one.
//
// Times are Unix nanoseconds ({int}, NULL when unset): they round-trip to
// the nanosecond, as the audit log's hashes need. Credentials are only
// keyed hashes or argon2id strings; outbox bodies are sealed.
const schema = `
CREATE TABLE voters (
	id                    {id},
	numic                 TEXT NOT NULL UNIQUE,
	email                 TEXT NOT NULL,
	last_name             TEXT NOT NULL DEFAULT '',
	first_names           TEXT NOT NULL DEFAULT '',
	mobile                TEXT NOT NULL DEFAULT '',
	circonscription       TEXT NOT NULL DEFAULT '',
	lang                  TEXT NOT NULL DEFAULT 'fr',
	identifier_hash       {blob} UNIQUE,
	password_hash         TEXT NOT NULL DEFAULT '',
	-- Attempts reserved in the window that ends at attempts_until.
	failed_attempts       INTEGER NOT NULL DEFAULT 0,
	attempts_until        {int},
	locked_until          {int},
	identifier_renewed_at {int},
	password_renewed_at   {int},
	last_login_at         {int},
	-- What the help desk set, the roll import keeps.
	email_by_desk         {int},
	mobile_by_desk        {int}
);
CREATE INDEX voters_email ON voters(email);
CREATE INDEX voters_no_credentials ON voters(id) WHERE identifier_hash IS NULL;

CREATE TABLE links (
	id          {id},
	voter_id    {int} NOT NULL REFERENCES voters(id),
	kind        TEXT NOT NULL CHECK (kind IN ('identifier', 'password')),
	token_hash  {blob} NOT NULL UNIQUE,
	created_at  {int} NOT NULL,
	expires_at  {int} NOT NULL,
	used_at     {int},
	replaced_at {int},
	revoked_at  {int}
);
-- Pending links of a voter: the lookups of replace, revoke and "not both".
CREATE INDEX links_pending ON links(voter_id, kind)
	WHERE used_at IS NULL AND replaced_at IS NULL AND revoked_at IS NULL;

-- The security codes already tried (a keyed hash of the id): the id
-- carries the digits and the expiry, so drawing one writes nothing; a
-- row is kept until the code it spent has expired.
CREATE TABLE spent_codes (
	id_hash    {blob} PRIMARY KEY,
	expires_at {int} NOT NULL
);
CREATE INDEX spent_codes_expiry ON spent_codes(expires_at);

-- The rate limits: one row per key, the times of its events within the
-- window (8 bytes each, Unix nanoseconds, oldest first), no more than the
-- limit lets in; last_at is the newest, for the purge.
CREATE TABLE rate_limits (
	key     {blob} PRIMARY KEY,
	times   {blob} NOT NULL,
	last_at {int} NOT NULL
);
CREATE INDEX rate_limits_last ON rate_limits(last_at);

CREATE TABLE outbox (
	id              {id},
	voter_id        {int} REFERENCES voters(id),
	channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
	kind            TEXT NOT NULL,
	recipient       TEXT NOT NULL,
	subject         TEXT NOT NULL DEFAULT '',
	body            {blob} NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_at {int},
	created_at      {int} NOT NULL,
	sent_at         {int},
	-- An e-mail's Message-Id (a bounce may quote it) and its
	-- recipient's domain in lower case (the refusal rate by domain).
	message_id       TEXT NOT NULL DEFAULT '',
	recipient_domain TEXT NOT NULL DEFAULT '',
	-- An SMS's gateway (primary, fallback) and its id there.
	gateway          TEXT NOT NULL DEFAULT '',
	gateway_id       TEXT NOT NULL DEFAULT '',
	-- What became of it after the relay or the gateway took it: the
	-- state a report or a receipt gave, the remote answer, when.
	delivery         TEXT NOT NULL DEFAULT '' CHECK (delivery IN ('', 'delivered', 'delayed', 'refused', 'expired')),
	delivery_status  TEXT NOT NULL DEFAULT '',
	delivery_at      {int}
){inline};
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_gateway_id ON outbox(gateway, gateway_id) WHERE gateway_id <> '';
CREATE INDEX outbox_domains ON outbox(recipient_domain, delivery) WHERE channel = 'email' AND state = 'sent';
CREATE INDEX outbox_voter ON outbox(voter_id) WHERE voter_id IS NOT NULL;
-- The depth by state and channel, and the oldest message, read at every
-- metrics scrape from the unsent messages only.
CREATE INDEX outbox_unsent ON outbox(state, channel, created_at) WHERE state <> 'sent';

CREATE TABLE sessions (
	token_hash {blob} PRIMARY KEY,
	voter_id   {int} NOT NULL REFERENCES voters(id),
	created_at {int} NOT NULL,
	expires_at {int} NOT NULL
);
CREATE INDEX sessions_voter ON sessions(voter_id);

CREATE TABLE agents (
	id            {id},
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
	password_hash TEXT NOT NULL,
	created_at    {int} NOT NULL,
	totp_secret   {blob},
	totp_step     {int},
	email         TEXT NOT NULL DEFAULT '',
	-- The voters the agent sees: "*" (the central office) or its
	-- circonscriptions one per line; '' sees none (portal.Scope).
	scope         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE agent_recovery_codes (
	agent_id  {int} NOT NULL REFERENCES agents(id),
	code_hash {blob} NOT NULL,
	PRIMARY KEY (agent_id, code_hash)
);
CREATE TABLE agent_sessions (
	token_hash {blob} PRIMARY KEY,
	agent_id   {int} NOT NULL REFERENCES agents(id),
	created_at {int} NOT NULL,
	expires_at {int} NOT NULL
);

-- Agent logins throttled per source (a keyed hash of name and address,
-- or of the address alone), with the voters' columns (Tx.reserve).
CREATE TABLE throttles (
	key             {blob} PRIMARY KEY,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	attempts_until  {int},
	locked_until    {int},
	blocks          INTEGER NOT NULL DEFAULT 0
);

-- First-credentials campaigns: who got what, once per campaign.
CREATE TABLE campaign_sends (
	campaign TEXT NOT NULL,
	voter_id {int} NOT NULL REFERENCES voters(id),
	sent_at  {int} NOT NULL,
	PRIMARY KEY (campaign, voter_id)
);

-- The help desk's changes of contact details, proposed by one agent and
-- approved by another.
CREATE TABLE contact_changes (
	id              {id},
	voter_id        {int} NOT NULL REFERENCES voters(id),
	old_email       TEXT NOT NULL,
	new_email       TEXT NOT NULL DEFAULT '',
	old_mobile      TEXT NOT NULL,
	new_mobile      TEXT NOT NULL DEFAULT '',
	document        TEXT NOT NULL,
	reason          TEXT NOT NULL,
	proposed_by     {int} NOT NULL REFERENCES agents(id),
	proposed_at     {int} NOT NULL,
	expires_at      {int} NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn', 'expired')),
	decided_by      {int} REFERENCES agents(id),
	decided_at      {int},
	decision_reason TEXT NOT NULL DEFAULT ''
);
-- One proposal pending per voter, whatever the concurrency: a second
-- insert waits for the first to commit, then conflicts.
CREATE UNIQUE INDEX contact_changes_one_pending ON contact_changes(voter_id) WHERE state = 'pending';
CREATE INDEX contact_changes_expiry ON contact_changes(expires_at) WHERE state = 'pending';
CREATE INDEX contact_changes_voter ON contact_changes(voter_id, id);

-- What the database remembers of its deployment: the fingerprint of the
-- instances' key.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value {blob} NOT NULL
);

-- The audit log (app/audit, docs/audit.md): each row sealed under the key
-- when written (mac; its id is read before the insert, as the seal covers
-- it); checkpoint is the checkpoint that signed it, 0 until one does (the
-- checkpoint's digest binds the set of rows that name it).
CREATE TABLE audit (
	id         {id},
	at         {int} NOT NULL,
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL,
	voter_id   {int} REFERENCES voters(id),
	detail     TEXT NOT NULL DEFAULT '',
	mac        {blob} NOT NULL,
	checkpoint {int} NOT NULL DEFAULT 0
);
CREATE INDEX audit_voter ON audit(voter_id) WHERE voter_id IS NOT NULL;
CREATE INDEX audit_unsigned ON audit(id) WHERE checkpoint = 0;
CREATE TABLE audit_checkpoints (
	seq       {int} PRIMARY KEY,
	at        {int} NOT NULL,
	row_count {int} NOT NULL,
	digest    {blob} NOT NULL,
	mac       {blob} NOT NULL
);
`

// schemaFor writes schema in one database's types, given as pairs
// ("{id}", "INTEGER PRIMARY KEY", …).
func schemaFor(types ...string) string { return strings.NewReplacer(types...).Replace(schema) }
