package portal

// The words the service records in the audit log and the outbox, which
// the office gets back (HistoryEntry, OutboxMessage…) and the screens show
// in words (their codes.go), never as they are. servicetest fails a test
// whose service recorded a word missing here, and the screens' tests fail
// on a word here without a translation in each language.

// AuditActions are the actions of the audit log.
var AuditActions = []string{
	"agent.added", "agent.email_set", "agent.login", "agent.login.failed", "agent.second_factor_locked", "agent.second_factor_reset", "agent.throttled",
	"audit.verified",
	"contact.change.approval_refused", "contact.change.approved", "contact.change.expired", "contact.change.proposed",
	"contact.change.refused", "contact.change.rejected", "contact.change.withdrawn",
	"credentials.sent", "credentials.skipped",
	"desk.renewal.identifier", "desk.renewal.password", "desk.renewal.refused",
	"identifier.confirm.failed", "identifier.renewed", "identifier.request", "identifier.request.no_match",
	"identifier.request.rate_limited", "identifier.request.refused",
	"login", "login.blocked", "login.failed",
	"outbox.retry",
	"password.renewed", "password.request.locked", "password.request.no_match", "password.request.no_mobile",
	"password.request.rate_limited", "password.request.refused", "password.request.wrong_numic",
	"roll.batch", "roll.difference_kept", "roll.imported",
	"voter.demo_seeded", "voter.links_cancelled", "voter.locked", "voter.unlocked",
}

// MessageKinds are the kinds of the outbox's messages.
var MessageKinds = []string{
	"agent.alert", "contact.changed", "credentials.identifier", "credentials.password",
	"identifier.changed", "identifier.link", "identifier.refused",
	"password.changed", "password.refused", "password.sms",
}

// MessageStates are where an outbox message stands.
var MessageStates = []string{"pending", "sent", "failed"}

// DeliveryStates are what became of a sent message (MessageState.Delivery).
var DeliveryStates = []string{"delivered", "delayed", "refused", "expired"}

// Stages are where a message stands in words (MessageState.Stage).
var Stages = []string{"queued", "relayed", "delivered", "delayed", "refused", "expired", "failed"}

// Channels are how messages travel.
var Channels = []string{"email", "sms"}

// Actors are who acts, besides "voter:ID" and "agent:NAME": the service
// itself, someone who matched no voter, and consulvoted's commands.
var Actors = []string{"system", "anonymous", "cli"}
