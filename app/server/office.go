package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"consulvote/app/api"
	"consulvote/app/portal"
)

// officeRoutes are the consular office's (wire format in package api).
func (h *Handler) officeRoutes(o portal.Office) {
	h.handle("POST "+api.AgentSessions, post(h, func(ctx context.Context, r api.AgentLoginRequest) (portal.AgentSession, int, error) {
		s, err := o.AgentLogin(ctx, r.Name, r.Password, r.Code)
		return s, http.StatusCreated, err
	}))
	h.handle("DELETE "+api.AgentSessions, func(w http.ResponseWriter, r *http.Request) {
		if err := o.AgentLogout(r.Context(), bearer(r)); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	agent(h, "POST "+api.AgentVoterSearch, func(ctx context.Context, token string, _ int64, r api.SearchRequest) (any, error) {
		return o.FindVoters(ctx, token, r.Query)
	})
	agent(h, "GET "+api.AgentVoter, func(ctx context.Context, token string, id int64, _ api.Empty) (any, error) {
		return o.VoterFile(ctx, token, id)
	})
	agent(h, "POST "+api.AgentUnlock, func(ctx context.Context, token string, id int64, r api.ReasonRequest) (any, error) {
		return api.Empty{}, o.UnlockVoter(ctx, token, id, r.Reason)
	})
	agent(h, "POST "+api.AgentCancelLinks, func(ctx context.Context, token string, id int64, r api.ReasonRequest) (any, error) {
		n, err := o.CancelLinks(ctx, token, id, r.Reason)
		return api.Cancelled{Cancelled: n}, err
	})
	agent(h, "GET "+api.AgentOutbox, func(ctx context.Context, token string, _ int64, _ api.Empty) (any, error) {
		return o.OutboxStatus(ctx, token)
	})
	agent(h, "POST "+api.AgentRetry, func(ctx context.Context, token string, id int64, r api.ReasonRequest) (any, error) {
		return api.Empty{}, o.RetryMessage(ctx, token, id, r.Reason)
	})
	agent(h, "POST "+api.AgentAuditSearch, func(ctx context.Context, token string, _ int64, f portal.AuditFilter) (any, error) {
		return o.AuditEntries(ctx, token, f)
	})
	agent(h, "POST "+api.AgentAuditVerify, func(ctx context.Context, token string, _ int64, _ api.Empty) (any, error) {
		return o.VerifyAudit(ctx, token)
	})
	h.deskRoutes(o)
}

// deskRoutes are the help desk's: changes of contact details and
// renewals started for a voter.
func (h *Handler) deskRoutes(o portal.Desk) {
	agent(h, "POST "+api.AgentProposeChange, func(ctx context.Context, token string, id int64, r portal.ContactChangeRequest) (any, error) {
		r.VoterID = id
		return o.ProposeContactChange(ctx, token, r)
	})
	agent(h, "GET "+api.AgentChanges, func(ctx context.Context, token string, _ int64, _ api.Empty) (any, error) {
		cs, err := o.PendingContactChanges(ctx, token)
		if cs == nil {
			cs = []portal.ContactChange{}
		}
		return cs, err
	})
	agent(h, "POST "+api.AgentApproveChange, func(ctx context.Context, token string, id int64, _ api.Empty) (any, error) {
		return o.ApproveContactChange(ctx, token, id)
	})
	agent(h, "POST "+api.AgentRejectChange, func(ctx context.Context, token string, id int64, r api.ReasonRequest) (any, error) {
		return o.RejectContactChange(ctx, token, id, r.Reason)
	})
	agent(h, "POST "+api.AgentRenewals, func(ctx context.Context, token string, id int64, r api.RenewalRequest) (any, error) {
		return o.StartRenewal(ctx, token, id, r.Kind, r.Reason)
	})
}

// agent serves an agent's call on pattern: it hands fn the bearer token,
// the {id} of the path, if any, and (but for GET) the JSON body decoded
// like post. A path whose {id} is not a number names nothing: not found.
func agent[Req any](h *Handler, pattern string, fn func(ctx context.Context, token string, id int64, req Req) (any, error)) {
	h.handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		var id int64
		if s := r.PathValue("id"); s != "" {
			var err error
			if id, err = strconv.ParseInt(s, 10, 64); err != nil {
				writeError(w, portal.ErrNotFound)
				return
			}
		}
		token := bearer(r)
		if r.Method == http.MethodGet {
			var none Req
			v, err := fn(r.Context(), token, id, none)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
			return
		}
		post(h, func(ctx context.Context, req Req) (any, int, error) {
			v, err := fn(ctx, token, id, req)
			return v, http.StatusOK, err
		})(w, r)
	})
}

func bearer(r *http.Request) string {
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}
