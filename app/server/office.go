package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"consulvote/app/portal"
)

// The consular office's routes. All but the login need the agent's
// session token as "Authorization: Bearer …"; the service checks it and
// the role on every call.
const (
	AgentSessions      = "/api/v1/agent/sessions"
	AgentVoterSearch   = "/api/v1/agent/voters/search"
	AgentVoter         = "/api/v1/agent/voters/{id}"
	AgentUnlock        = "/api/v1/agent/voters/{id}/unlock"
	AgentCancelLinks   = "/api/v1/agent/voters/{id}/cancel-links"
	AgentOutbox        = "/api/v1/agent/outbox"
	AgentRetry         = "/api/v1/agent/outbox/{id}/retry"
	AgentAuditVerify   = "/api/v1/agent/audit/verify"
	AgentAuditSearch   = "/api/v1/agent/audit/search"
	AgentProposeChange = "/api/v1/agent/voters/{id}/contact-changes"
	AgentRenewals      = "/api/v1/agent/voters/{id}/renewals"
	AgentChanges       = "/api/v1/agent/contact-changes"
	AgentApproveChange = "/api/v1/agent/contact-changes/{id}/approve"
	AgentRejectChange  = "/api/v1/agent/contact-changes/{id}/reject"
	agentLoginPattern  = "POST " + AgentSessions
)

type agentLogin struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Code     string `json:"code,omitempty"` // second factor
}

type search struct {
	Query string `json:"query"`
}

type why struct {
	Reason string `json:"reason"`
}

type renewal struct {
	Kind   portal.RenewalKind `json:"kind"`
	Reason string             `json:"reason"`
}

func (h *Handler) officeRoutes(o portal.Office) {
	h.mux.HandleFunc("POST "+AgentSessions, post(h, func(ctx context.Context, r agentLogin) (portal.AgentSession, int, error) {
		s, err := o.AgentLogin(ctx, r.Name, r.Password, r.Code)
		return s, http.StatusCreated, err
	}))
	h.mux.HandleFunc("DELETE "+AgentSessions, func(w http.ResponseWriter, r *http.Request) {
		if err := o.AgentLogout(r.Context(), bearer(r)); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h.mux.HandleFunc("POST "+AgentVoterSearch, authed(h, func(ctx context.Context, token string, _ int64, r search) (any, error) {
		return o.FindVoters(ctx, token, r.Query)
	}))
	h.mux.HandleFunc("GET "+AgentVoter, func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeError(w, portal.ErrNotFound)
			return
		}
		f, err := o.VoterFile(r.Context(), bearer(r), id)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
	h.mux.HandleFunc("POST "+AgentUnlock, authed(h, func(ctx context.Context, token string, id int64, r why) (any, error) {
		return struct{}{}, o.UnlockVoter(ctx, token, id, r.Reason)
	}))
	h.mux.HandleFunc("POST "+AgentCancelLinks, authed(h, func(ctx context.Context, token string, id int64, r why) (any, error) {
		n, err := o.CancelLinks(ctx, token, id, r.Reason)
		return map[string]int{"cancelled": n}, err
	}))
	h.mux.HandleFunc("GET "+AgentOutbox, func(w http.ResponseWriter, r *http.Request) {
		st, err := o.OutboxStatus(r.Context(), bearer(r))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	h.mux.HandleFunc("POST "+AgentRetry, authed(h, func(ctx context.Context, token string, id int64, r why) (any, error) {
		return struct{}{}, o.RetryMessage(ctx, token, id, r.Reason)
	}))
	h.mux.HandleFunc("POST "+AgentAuditSearch, authed(h, func(ctx context.Context, token string, _ int64, f portal.AuditFilter) (any, error) {
		return o.AuditEntries(ctx, token, f)
	}))
	h.deskRoutes(o)
	h.mux.HandleFunc("POST "+AgentAuditVerify, authed(h, func(ctx context.Context, token string, _ int64, _ struct{}) (any, error) {
		return o.VerifyAudit(ctx, token)
	}))
}

// deskRoutes are the help desk's: changes of contact details and
// renewals started for a voter.
func (h *Handler) deskRoutes(o portal.Office) {
	h.mux.HandleFunc("POST "+AgentProposeChange, authed(h, func(ctx context.Context, token string, id int64, r portal.ContactChangeRequest) (any, error) {
		r.VoterID = id
		return o.ProposeContactChange(ctx, token, r)
	}))
	h.mux.HandleFunc("GET "+AgentChanges, func(w http.ResponseWriter, r *http.Request) {
		cs, err := o.PendingContactChanges(r.Context(), bearer(r))
		if err != nil {
			writeError(w, err)
			return
		}
		if cs == nil {
			cs = []portal.ContactChange{}
		}
		writeJSON(w, http.StatusOK, cs)
	})
	h.mux.HandleFunc("POST "+AgentApproveChange, authed(h, func(ctx context.Context, token string, id int64, _ struct{}) (any, error) {
		return o.ApproveContactChange(ctx, token, id)
	}))
	h.mux.HandleFunc("POST "+AgentRejectChange, authed(h, func(ctx context.Context, token string, id int64, r why) (any, error) {
		return o.RejectContactChange(ctx, token, id, r.Reason)
	}))
	h.mux.HandleFunc("POST "+AgentRenewals, authed(h, func(ctx context.Context, token string, id int64, r renewal) (any, error) {
		return o.StartRenewal(ctx, token, id, r.Kind, r.Reason)
	}))
}

// authed decodes a JSON body like post and hands fn the bearer token and
// the {id} of the path, if any.
func authed[Req any](h *Handler, fn func(ctx context.Context, token string, id int64, req Req) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var id int64
		if s := r.PathValue("id"); s != "" {
			var err error
			if id, err = strconv.ParseInt(s, 10, 64); err != nil {
				writeError(w, portal.ErrNotFound)
				return
			}
		}
		token := bearer(r)
		post(h, func(ctx context.Context, req Req) (any, int, error) {
			v, err := fn(ctx, token, id, req)
			return v, http.StatusOK, err
		})(w, r)
	}
}

func bearer(r *http.Request) string {
	t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return t
}
