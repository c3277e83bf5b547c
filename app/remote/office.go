package remote

import (
	"context"
	"net/http"

	"consulvote/app/api"
	"consulvote/app/portal"
)

var _ portal.Office = (*Client)(nil)

// agent calls an office route (package api) as the agent of token; id
// fills the route's {id}, if it has one.
func (c *Client) agent(ctx context.Context, method, route string, id int64, token string, body, out any, idempotent bool) error {
	return c.call(ctx, method, api.WithID(route, id), body, out, idempotent, "Authorization", "Bearer "+token)
}

// AgentLogin implements portal.Office.
func (c *Client) AgentLogin(ctx context.Context, name, password, code string) (portal.AgentSession, error) {
	var s portal.AgentSession
	err := c.call(ctx, http.MethodPost, api.AgentSessions, api.AgentLoginRequest{Name: name, Password: password, Code: code}, &s, false)
	return s, err
}

// AgentLogout implements portal.Office.
func (c *Client) AgentLogout(ctx context.Context, token string) error {
	return c.agent(ctx, http.MethodDelete, api.AgentSessions, 0, token, nil, nil, true)
}

// FindVoters implements portal.Office.
func (c *Client) FindVoters(ctx context.Context, token, query string) ([]portal.VoterSummary, error) {
	var vs []portal.VoterSummary
	err := c.agent(ctx, http.MethodPost, api.AgentVoterSearch, 0, token, api.SearchRequest{Query: query}, &vs, true)
	return vs, err
}

// VoterFile implements portal.Office.
func (c *Client) VoterFile(ctx context.Context, token string, voterID int64) (portal.VoterFile, error) {
	var f portal.VoterFile
	err := c.agent(ctx, http.MethodGet, api.AgentVoter, voterID, token, nil, &f, true)
	return f, err
}

// UnlockVoter implements portal.Office.
func (c *Client) UnlockVoter(ctx context.Context, token string, voterID int64, reason string) error {
	return c.agent(ctx, http.MethodPost, api.AgentUnlock, voterID, token, api.ReasonRequest{Reason: reason}, nil, false)
}

// CancelLinks implements portal.Office.
func (c *Client) CancelLinks(ctx context.Context, token string, voterID int64, reason string) (int, error) {
	var out api.Cancelled
	err := c.agent(ctx, http.MethodPost, api.AgentCancelLinks, voterID, token, api.ReasonRequest{Reason: reason}, &out, false)
	return out.Cancelled, err
}

// OutboxStatus implements portal.Office.
func (c *Client) OutboxStatus(ctx context.Context, token string) (portal.OutboxStatus, error) {
	var st portal.OutboxStatus
	err := c.agent(ctx, http.MethodGet, api.AgentOutbox, 0, token, nil, &st, true)
	return st, err
}

// RetryMessage implements portal.Office.
func (c *Client) RetryMessage(ctx context.Context, token string, id int64, reason string) error {
	return c.agent(ctx, http.MethodPost, api.AgentRetry, id, token, api.ReasonRequest{Reason: reason}, nil, false)
}

// VerifyAudit implements portal.Office.
func (c *Client) VerifyAudit(ctx context.Context, token string) (portal.AuditReport, error) {
	var r portal.AuditReport
	err := c.agent(ctx, http.MethodPost, api.AgentAuditVerify, 0, token, api.Empty{}, &r, true)
	return r, err
}

// AuditEntries implements portal.Office.
func (c *Client) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
	var es []portal.HistoryEntry
	err := c.agent(ctx, http.MethodPost, api.AgentAuditSearch, 0, token, f, &es, true)
	return es, err
}

// ProposeContactChange implements portal.Desk.
func (c *Client) ProposeContactChange(ctx context.Context, token string, req portal.ContactChangeRequest) (portal.ContactChange, error) {
	var out portal.ContactChange
	err := c.agent(ctx, http.MethodPost, api.AgentProposeChange, req.VoterID, token, req, &out, false)
	return out, err
}

// PendingContactChanges implements portal.Desk.
func (c *Client) PendingContactChanges(ctx context.Context, token string) ([]portal.ContactChange, error) {
	var out []portal.ContactChange
	err := c.agent(ctx, http.MethodGet, api.AgentChanges, 0, token, nil, &out, true)
	return out, err
}

// ApproveContactChange implements portal.Desk.
func (c *Client) ApproveContactChange(ctx context.Context, token string, id int64) (portal.ContactChange, error) {
	var out portal.ContactChange
	err := c.agent(ctx, http.MethodPost, api.AgentApproveChange, id, token, api.Empty{}, &out, false)
	return out, err
}

// RejectContactChange implements portal.Desk.
func (c *Client) RejectContactChange(ctx context.Context, token string, id int64, reason string) (portal.ContactChange, error) {
	var out portal.ContactChange
	err := c.agent(ctx, http.MethodPost, api.AgentRejectChange, id, token, api.ReasonRequest{Reason: reason}, &out, false)
	return out, err
}

// StartRenewal implements portal.Desk.
func (c *Client) StartRenewal(ctx context.Context, token string, voterID int64, kind portal.RenewalKind, reason string) (portal.DeskRenewal, error) {
	var out portal.DeskRenewal
	err := c.agent(ctx, http.MethodPost, api.AgentRenewals, voterID, token, api.RenewalRequest{Kind: kind, Reason: reason}, &out, false)
	return out, err
}
