// Package server exposes a portal.Portal as the JSON API of
// `consulvoted serve` (wire format in package api), with the limits a
// service open to the internet needs: strict bodies, per-client rate
// limiting, one log line per request without body or secret.
package server

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
)

// Options tune the server. The zero value has sensible limits.
type Options struct {
	Logger *slog.Logger
	// PerClient is the sustained rate of requests allowed per client
	// address, per second (default 2); Burst the bursts above it (20).
	// A negative PerClient turns the limit off (load tests).
	PerClient float64
	Burst     int
	// TrustedProxies are the peers whose X-Forwarded-For names the
	// client (its right-most hop that is not one of them); from any other
	// peer the header is ignored.
	TrustedProxies []netip.Prefix
	// Office, when set, adds the consular office's routes (/api/v1/agent).
	Office portal.Office
	// OfficeOnly leaves out the voters' routes: the handler of a separate
	// office listener (serve --office-listen), whose public twin then has
	// no Office, or of an internal listener for metrics alone. Such a
	// handler is internal: /readyz says there why it is not ready.
	OfficeOnly bool
	// Observer is told every request's route, status and duration.
	Observer Observer
	// Metrics, when set, answers GET /metrics: give it to internal
	// handlers only (OfficeOnly), never to the public one.
	Metrics http.Handler
	// Ready, when set, answers GET /readyz: 200 when it returns nil, else
	// 503.
	Ready func(context.Context) error
}

// Observer is told what the server answered, for the operators' metrics.
// route is the pattern of the route matched ("POST /api/v1/sessions",
// "GET /api/v1/security-codes/{id}/audio"), or "unmatched": never the
// path a client sent, which may carry a token.
type Observer interface {
	Request(route string, status int, d time.Duration)
}

// Paths of the operators' endpoints.
const (
	ReadyPath   = "/readyz"
	MetricsPath = "/metrics"
)

// Handler answers the API for p.
type Handler struct {
	portal  portal.Portal
	log     *slog.Logger
	limiter *clientLimiter
	trusted []netip.Prefix
	mux     *http.ServeMux
	// officeOnly: the voters' paths are not served here (404, not 405).
	officeOnly bool
	obs        Observer // nil: nobody
	// patterns are the routes registered on mux, in order: what the
	// round-trip test holds against the remote client's calls.
	patterns []string
}

// handle registers fn on the mux for pattern.
func (h *Handler) handle(pattern string, fn http.HandlerFunc) {
	h.patterns = append(h.patterns, pattern)
	h.mux.HandleFunc(pattern, fn)
}

// New returns the API handler for p.
func New(p portal.Portal, opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.PerClient == 0 {
		opt.PerClient = 2
	}
	if opt.Burst == 0 {
		opt.Burst = 20
	}
	h := &Handler{portal: p, log: opt.Logger, mux: http.NewServeMux(), officeOnly: opt.OfficeOnly, obs: opt.Observer,
		trusted: opt.TrustedProxies}
	if opt.PerClient > 0 {
		h.limiter = newClientLimiter(opt.PerClient, opt.Burst, maxClients)
	}
	h.handle("GET "+api.Health, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	if opt.Ready != nil {
		h.handle("GET "+ReadyPath, ready(opt.Ready, time.Second, opt.OfficeOnly, h.log))
	}
	if opt.Metrics != nil {
		h.handle("GET "+MetricsPath, opt.Metrics.ServeHTTP)
	}
	if !opt.OfficeOnly {
		h.handle("POST "+api.SecurityCodes, h.securityCode)
		h.handle("GET "+api.SecurityCodeAudio, h.securityCodeAudio)
		h.handle("POST "+api.IdentifierRenewals, post(h, h.requestIdentifier))
		h.handle("POST "+api.IdentifierConfirm, post(h, h.confirm))
		h.handle("POST "+api.PasswordRenewals, post(h, h.requestPassword))
		h.handle("POST "+api.LinkInspect, post(h, h.inspect))
		h.handle("POST "+api.Sessions, post(h, h.login))
		h.handle("DELETE "+api.Sessions, h.logout)
		h.handle("GET "+portal.LinkPath, linkPage)
	}
	if opt.Office != nil {
		h.officeRoutes(opt.Office)
	}
	return h
}

// ServeHTTP logs one line per request: method, route, status, duration.
// Never the body, the query or a header: links and passwords travel there.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The service throttles agent logins and renewals per source too.
	key := clientKey(clientAddr(r, h.trusted))
	r = r.WithContext(portal.WithClient(r.Context(), clientName(key)))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	_, pattern := h.mux.Handler(r)
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic in handler", "route", route(r))
			writeError(rec, errors.New("panic"))
		}
		took := time.Since(start)
		h.log.Info("request", "method", r.Method, "route", route(r), "status", rec.status,
			"duration_ms", float64(took.Microseconds())/1000)
		if h.obs != nil {
			if pattern == "" {
				pattern = "unmatched"
			}
			h.obs.Request(pattern, rec.status, took)
		}
	}()
	rec.Header().Set("X-Content-Type-Options", "nosniff")
	rec.Header().Set("Cache-Control", "no-store")
	if r.TLS != nil {
		// Browsers that opened a link page over TLS never fall back to
		// plain HTTP for this host, where the token would travel in clear.
		rec.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	// Probes are not limited: a load balancer's nodes may share one
	// address, and /readyz asks the database at most once a second.
	if h.limiter != nil && r.URL.Path != api.Health && r.URL.Path != ReadyPath {
		if ok, retry := h.limiter.allow(key, start); !ok {
			rec.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds()+0.999)))
			writeError(rec, &portal.Error{Code: portal.CodeRateLimited, Until: time.Now().Add(retry)})
			return
		}
	}
	if pattern == "" {
		// Unknown route or wrong method: answer in JSON like the rest.
		code, status := "not_found", http.StatusNotFound
		if knownPaths[r.URL.Path] && (!h.officeOnly || r.URL.Path == api.Health) {
			code, status = "method_not_allowed", http.StatusMethodNotAllowed
		}
		writeJSON(rec, status, api.Error{Error: api.ErrorBody{Code: portal.Code(code)}})
		return
	}
	h.mux.ServeHTTP(rec, r)
}

var knownPaths = map[string]bool{api.SecurityCodes: true, api.IdentifierRenewals: true, api.IdentifierConfirm: true,
	api.PasswordRenewals: true, api.LinkInspect: true, api.Sessions: true, api.Health: true, portal.LinkPath: true}

// route is the request's route pattern, or "unmatched": never the raw
// path, which a client controls.
func route(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unmatched"
}

// post decodes the JSON body strictly into Req, calls fn, and answers.
func post[Req, Resp any](h *Handler, fn func(context.Context, Req) (Resp, int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != api.ContentType {
			writeJSON(w, http.StatusUnsupportedMediaType, api.Error{Error: api.ErrorBody{Code: "unsupported_media_type"}})
			return
		}
		var req Req
		if err := api.Decode(http.MaxBytesReader(w, r.Body, api.MaxBody), &req); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) || strings.Contains(err.Error(), "request body too large") {
				writeJSON(w, http.StatusRequestEntityTooLarge, api.Error{Error: api.ErrorBody{Code: "body_too_large"}})
				return
			}
			writeJSON(w, http.StatusBadRequest, api.Error{Error: api.ErrorBody{Code: "malformed_body"}})
			return
		}
		resp, status, err := fn(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, status, resp)
	}
}

func (h *Handler) securityCode(w http.ResponseWriter, r *http.Request) {
	c, err := h.portal.NewSecurityCode(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.SecurityCode{ID: c.ID, PNG: c.PNG, ExpiresAt: c.ExpiresAt.UTC()})
}

// securityCodeAudio answers the code spoken, audio/wav; like every
// answer, not to be stored (Cache-Control: no-store), and limited per
// client like the picture. The route, not the path, is logged: never the
// code's id.
func (h *Handler) securityCodeAudio(w http.ResponseWriter, r *http.Request) {
	language := r.URL.Query().Get("lang")
	if language == "" {
		language = "fr"
	}
	b, err := h.portal.SecurityCodeAudio(r.Context(), r.PathValue("id"), language)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (h *Handler) requestIdentifier(ctx context.Context, req api.IdentifierRenewalRequest) (api.Empty, int, error) {
	return api.Empty{}, http.StatusAccepted, h.portal.RequestIdentifierRenewal(ctx, portal.IdentifierRenewalRequest(req))
}

func (h *Handler) requestPassword(ctx context.Context, req api.PasswordRenewalRequest) (api.Empty, int, error) {
	return api.Empty{}, http.StatusAccepted, h.portal.RequestPasswordRenewal(ctx, portal.PasswordRenewalRequest(req))
}

func (h *Handler) inspect(ctx context.Context, req api.LinkRequest) (api.LinkStatus, int, error) {
	st, err := h.portal.InspectLink(ctx, req.Link)
	out := api.LinkStatus{State: st.State}
	if !st.ExpiresAt.IsZero() {
		t := st.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	return out, http.StatusOK, err
}

func (h *Handler) confirm(ctx context.Context, req api.ConfirmRequest) (api.Renewal, int, error) {
	r, err := h.portal.ConfirmIdentifierRenewal(ctx, portal.ConfirmRequest(req))
	return api.Renewal{Identifier: r.Identifier, NUMIC: r.NUMIC}, http.StatusOK, err
}

func (h *Handler) login(ctx context.Context, req api.LoginRequest) (api.Session, int, error) {
	s, err := h.portal.Login(ctx, req.Identifier, req.Password)
	out := api.Session{Token: s.Token, NUMICMasked: s.NUMICMasked, FirstNames: s.FirstNames,
		LastName: s.LastName, ExpiresAt: s.ExpiresAt.UTC()}
	if !s.LastLogin.IsZero() {
		t := s.LastLogin.UTC()
		out.LastLogin = &t
	}
	return out, http.StatusCreated, err
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		writeJSON(w, http.StatusUnauthorized, api.Error{Error: api.ErrorBody{Code: "no_session"}})
		return
	}
	if err := h.portal.Logout(r.Context(), token); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// ready answers /readyz from check. The public listener says only whether
// the service is ready; an internal one (office) also says why not. Probes
// are not limited per client, so check runs at most once per every, its
// answer shared by the probes meanwhile. A load balancer probes every
// second or so: the log says when the answer changes, not at every probe.
func ready(check func(context.Context) error, every time.Duration, internal bool, log *slog.Logger) http.HandlerFunc {
	var (
		mu      sync.Mutex
		checked time.Time // when check last ran
		result  error
		last    string // the problems last logged; "" while ready
	)
	answer := func(ctx context.Context) (changed bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(checked) >= every {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			result = check(ctx)
			cancel()
			checked = time.Now()
		}
		now := ""
		if result != nil {
			now = result.Error()
		}
		changed, last = now != last, now
		return changed, result
	}
	return func(w http.ResponseWriter, r *http.Request) {
		changed, err := answer(r.Context())
		if err == nil {
			if changed {
				log.Info("ready again")
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
			return
		}
		if changed {
			log.Warn("not ready", "err", err)
		}
		body := map[string]any{"status": "unready"}
		if internal {
			body["problems"] = strings.Split(err.Error(), "\n")
		}
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, body)
	}
}
