package api

import (
	"strconv"
	"strings"

	"consulvote/app/portal"
)

// The consular office's routes. All but the login need the agent's
// session token as "Authorization: Bearer …"; the service checks it and
// the role on every call. {id} is a voter's, a message's or a change's
// number (WithID). Each says its method, its body and its answer; the
// answers not declared here are the portal's types, which carry their
// JSON names.
const (
	// AgentSessions: POST AgentLoginRequest → portal.AgentSession (201);
	// DELETE ends the bearer's session (204).
	AgentSessions = "/api/v1/agent/sessions"
	// AgentVoterSearch: POST SearchRequest → []portal.VoterSummary.
	AgentVoterSearch = "/api/v1/agent/voters/search"
	// AgentVoter: GET → portal.VoterFile.
	AgentVoter = "/api/v1/agent/voters/{id}"
	// AgentUnlock: POST ReasonRequest → {}.
	AgentUnlock = "/api/v1/agent/voters/{id}/unlock"
	// AgentCancelLinks: POST ReasonRequest → Cancelled.
	AgentCancelLinks = "/api/v1/agent/voters/{id}/cancel-links"
	// AgentProposeChange: POST portal.ContactChangeRequest (its voter is
	// the route's) → portal.ContactChange.
	AgentProposeChange = "/api/v1/agent/voters/{id}/contact-changes"
	// AgentRenewals: POST RenewalRequest → portal.DeskRenewal.
	AgentRenewals = "/api/v1/agent/voters/{id}/renewals"
	// AgentOutbox: GET → portal.OutboxStatus.
	AgentOutbox = "/api/v1/agent/outbox"
	// AgentRetry: POST ReasonRequest → {}.
	AgentRetry = "/api/v1/agent/outbox/{id}/retry"
	// AgentAuditVerify: POST {} → portal.AuditReport.
	AgentAuditVerify = "/api/v1/agent/audit/verify"
	// AgentAuditSearch: POST portal.AuditFilter → []portal.HistoryEntry.
	AgentAuditSearch = "/api/v1/agent/audit/search"
	// AgentChanges: GET → []portal.ContactChange, the pending ones.
	AgentChanges = "/api/v1/agent/contact-changes"
	// AgentApproveChange: POST {} → portal.ContactChange.
	AgentApproveChange = "/api/v1/agent/contact-changes/{id}/approve"
	// AgentRejectChange: POST ReasonRequest → portal.ContactChange.
	AgentRejectChange = "/api/v1/agent/contact-changes/{id}/reject"
)

// WithID is route with its {id} replaced by id.
func WithID(route string, id int64) string {
	return strings.Replace(route, "{id}", strconv.FormatInt(id, 10), 1)
}

// AgentLoginRequest is the body of AgentSessions (POST).
type AgentLoginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	// Code is the one-time code of the second factor, or a recovery code.
	Code string `json:"code,omitempty"`
}

// SearchRequest is the body of AgentVoterSearch: a NUMIC or an e-mail
// address.
type SearchRequest struct {
	Query string `json:"query"`
}

// ReasonRequest is the body of the calls whose reason goes to the audit
// log: AgentUnlock, AgentCancelLinks, AgentRetry, AgentRejectChange.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

// RenewalRequest is the body of AgentRenewals.
type RenewalRequest struct {
	Kind   portal.RenewalKind `json:"kind"`
	Reason string             `json:"reason"`
}

// Cancelled answers AgentCancelLinks: how many links were cancelled.
type Cancelled struct {
	Cancelled int `json:"cancelled"`
}

// Empty is the body of the calls that carry nothing (AgentAuditVerify,
// AgentApproveChange) and the answer of those that tell nothing: {}.
type Empty struct{}
