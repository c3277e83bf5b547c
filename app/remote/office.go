package remote

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"consulvote/app/portal"
)

var _ portal.Office = (*Client)(nil)

// The office's routes (see package server).
const (
	agentSessions    = "/api/v1/agent/sessions"
	agentVoterSearch = "/api/v1/agent/voters/search"
	agentVoters      = "/api/v1/agent/voters/"
	agentOutbox      = "/api/v1/agent/outbox"
	agentAuditVerify = "/api/v1/agent/audit/verify"
	agentAuditSearch = "/api/v1/agent/audit/search"
	agentChanges     = "/api/v1/agent/contact-changes"
)

func auth(token string) []string { return []string{"Authorization", "Bearer " + token} }

// AgentLogin implements portal.Office.
func (c *Client) AgentLogin(ctx context.Context, name, password, code string) (portal.AgentSession, error) {
	var s portal.AgentSession
	err := c.call(ctx, http.MethodPost, agentSessions, map[string]string{"name": name, "password": password, "code": code}, &s, false)
	return s, err
}

// AgentLogout implements portal.Office.
func (c *Client) AgentLogout(ctx context.Context, token string) error {
	return c.call(ctx, http.MethodDelete, agentSessions, nil, nil, true, auth(token)...)
}

// FindVoters implements portal.Office.
func (c *Client) FindVoters(ctx context.Context, token, query string) ([]portal.VoterSummary, error) {
	var vs []portal.VoterSummary
	err := c.call(ctx, http.MethodPost, agentVoterSearch, map[string]string{"query": query}, &vs, true, auth(token)...)
	return vs, err
}

// VoterFile implements portal.Office.
func (c *Client) VoterFile(ctx context.Context, token string, voterID int64) (portal.VoterFile, error) {
	var f portal.VoterFile
	err := c.call(ctx, http.MethodGet, agentVoters+strconv.FormatInt(voterID, 10), nil, &f, true, auth(token)...)
	return f, err
}

// UnlockVoter implements portal.Office.
func (c *Client) UnlockVoter(ctx context.Context, token string, voterID int64, reason string) error {
	return c.call(ctx, http.MethodPost, agentVoters+strconv.FormatInt(voterID, 10)+"/unlock",
		map[string]string{"reason": reason}, nil, false, auth(token)...)
}

// CancelLinks implements portal.Office.
func (c *Client) CancelLinks(ctx context.Context, token string, voterID int64, reason string) (int, error) {
	var out struct {
		Cancelled int `json:"cancelled"`
	}
	err := c.call(ctx, http.MethodPost, agentVoters+strconv.FormatInt(voterID, 10)+"/cancel-links",
		map[string]string{"reason": reason}, &out, false, auth(token)...)
	return out.Cancelled, err
}

// OutboxStatus implements portal.Office.
func (c *Client) OutboxStatus(ctx context.Context, token string) (portal.OutboxStatus, error) {
	var st portal.OutboxStatus
	err := c.call(ctx, http.MethodGet, agentOutbox, nil, &st, true, auth(token)...)
	return st, err
}

// RetryMessage implements portal.Office.
func (c *Client) RetryMessage(ctx context.Context, token string, id int64, reason string) error {
	return c.call(ctx, http.MethodPost, strings.Join([]string{agentOutbox, strconv.FormatInt(id, 10), "retry"}, "/"),
		map[string]string{"reason": reason}, nil, false, auth(token)...)
}

// VerifyAudit implements portal.Office.
func (c *Client) VerifyAudit(ctx context.Context, token string) (portal.AuditReport, error) {
	var r portal.AuditReport
	err := c.call(ctx, http.MethodPost, agentAuditVerify, struct{}{}, &r, true, auth(token)...)
	return r, err
}

// AuditEntries implements portal.Office.
func (c *Client) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
	var es []portal.HistoryEntry
	err := c.call(ctx, http.MethodPost, agentAuditSearch, f, &es, true, auth(token)...)
	return es, err
}

func voterRoute(voterID int64, action string) string {
	return agentVoters + strconv.FormatInt(voterID, 10) + "/" + action
}

func changeRoute(id int64, action string) string {
	return agentChanges + "/" + strconv.FormatInt(id, 10) + "/" + action
}

// ProposeContactChange implements portal.Desk.
func (c *Client) ProposeContactChange(ctx context.Context, token string, req portal.ContactChangeRequest) (portal.ContactChange, error) {
	var out portal.ContactChange
	err := c.call(ctx, http.MethodPost, voterRoute(req.VoterID, "contact-changes"), req, &out, false, auth(token)...)
	return out, err
}

// PendingContactChanges implements portal.Desk.
func (c *Client) PendingContactChanges(ctx context.Context, token string) ([]portal.ContactChange, error) {
	var out []portal.ContactChange
	err := c.call(ctx, http.MethodGet, agentChanges, nil, &out, true, auth(token)...)
	return out, err
}

// ApproveContactChange implements portal.Desk.
func (c *Client) ApproveContactChange(ctx context.Context, token string, id int64) (portal.ContactChange, error) {
	var out portal.ContactChange
	err := c.call(ctx, http.MethodPost, changeRoute(id, "approve"), struct{}{}, &out, false, auth(token)...)
	return out, err
}

// RejectContactChange implements portal.Desk.
func (c *Client) RejectContactChange(ctx context.Context, token string, id int64, reason string) (portal.ContactChange, error) {
	var out portal.ContactChange
	err := c.call(ctx, http.MethodPost, changeRoute(id, "reject"), map[string]string{"reason": reason}, &out, false, auth(token)...)
	return out, err
}

// StartRenewal implements portal.Desk.
func (c *Client) StartRenewal(ctx context.Context, token string, voterID int64, kind portal.RenewalKind, reason string) (portal.DeskRenewal, error) {
	var out portal.DeskRenewal
	err := c.call(ctx, http.MethodPost, voterRoute(voterID, "renewals"),
		map[string]string{"kind": string(kind), "reason": reason}, &out, false, auth(token)...)
	return out, err
}
