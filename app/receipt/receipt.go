// Package receipt takes the SMS gateways' delivery receipts: the HTTP
// callback most gateways offer, POST /sms/receipts/{gateway} with
// {"id": "…", "status": "delivered" | "undelivered" | "expired",
// "error": "…"}, authenticated by a bearer token per gateway.
//
// A receipt sets the state of the one SMS that gateway knows by that id,
// and nothing else; a replay changes nothing and is answered as the first
// was, so that a gateway that retries is never told to retry again.
package receipt

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// ErrUnknown is an id no SMS of that gateway has.
var ErrUnknown = errors.New("receipt: no such message")

// Recorder is the outbox as receipts see it (the service).
type Recorder interface {
	// SMS returns the SMS gateway knows as id, or ErrUnknown.
	SMS(ctx context.Context, gateway, id string) (int64, error)
	// RecordSMS sets its state ("delivered", "refused", "expired") and the
	// gateway's answer; false when it had it already.
	RecordSMS(ctx context.Context, message int64, state, status string) (bool, error)
}

// The outcomes of a receipt, counted (Handler.Count).
const (
	Recorded  = "recorded"
	Replayed  = "replayed" // the message had that state already, or a final one
	BadToken  = "bad_token"
	Malformed = "malformed"
	Unknown   = "unknown"
	Busy      = "busy"
	Failed    = "failed"
)

// Outcomes lists them, for the metrics.
var Outcomes = []string{Recorded, Replayed, BadToken, Malformed, Unknown, Busy, Failed}

// MaxBody bounds a receipt, in bytes.
const MaxBody = 4 << 10

// Handler serves POST /sms/receipts/{gateway}.
type Handler struct {
	// Tokens are the gateways' bearer tokens, by gateway name.
	Tokens   map[string]string
	Recorder Recorder
	Log      *slog.Logger
	// Count is told each receipt's outcome (default: nobody).
	Count func(outcome string)
	// Slots bounds the receipts handled at once (16); a receipt waits at
	// most Wait (5 s) for one, then gets 503 and its gateway retries.
	Slots int
	Wait  time.Duration

	slots  chan struct{}
	hashes map[string][32]byte
}

// New returns a handler with its defaults.
func New(tokens map[string]string, rec Recorder, log *slog.Logger, count func(string)) *Handler {
	h := &Handler{Tokens: tokens, Recorder: rec, Log: log, Count: count, Slots: 16, Wait: 5 * time.Second}
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.Count == nil {
		h.Count = func(string) {}
	}
	h.slots = make(chan struct{}, h.Slots)
	h.hashes = map[string][32]byte{}
	for name, tok := range tokens {
		if tok != "" { // a gateway without a token takes no receipt
			h.hashes[name] = sha256.Sum256([]byte(tok))
		}
	}
	return h
}

// Path is where the handler is mounted; the gateway's name follows.
const Path = "/sms/receipts/"

type body struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

var states = map[string]string{"delivered": "delivered", "undelivered": "refused", "expired": "expired"}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	outcome, code := h.serve(r)
	h.Count(outcome)
	if outcome != Recorded && outcome != Replayed {
		h.Log.Info("sms receipt", "outcome", outcome)
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.WriteHeader(code)
}

func (h *Handler) serve(r *http.Request) (string, int) {
	gateway := strings.TrimPrefix(r.URL.Path, Path)
	if !h.authorized(gateway, r.Header.Get("Authorization")) {
		return BadToken, http.StatusUnauthorized
	}
	var b body
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxBody))
	if err := dec.Decode(&b); err != nil || dec.More() {
		return Malformed, http.StatusBadRequest
	}
	state, ok := states[b.Status]
	if !ok || b.ID == "" || len(b.ID) > 128 || len(b.Error) > 64 {
		return Malformed, http.StatusBadRequest
	}
	timer := time.NewTimer(h.Wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-timer.C:
		return Busy, http.StatusServiceUnavailable
	case <-r.Context().Done():
		return Busy, http.StatusServiceUnavailable
	}
	ctx := r.Context()
	id, err := h.Recorder.SMS(ctx, gateway, b.ID)
	if errors.Is(err, ErrUnknown) {
		return Unknown, http.StatusNotFound
	}
	if err != nil {
		return Failed, http.StatusServiceUnavailable
	}
	status := ""
	if state != "delivered" && b.Error != "" {
		status = "error " + clean(b.Error)
	}
	changed, err := h.Recorder.RecordSMS(ctx, id, state, status)
	switch {
	case err != nil:
		return Failed, http.StatusServiceUnavailable
	case !changed:
		return Replayed, http.StatusNoContent
	}
	return Recorded, http.StatusNoContent
}

// authorized compares the bearer token with the gateway's in constant
// time (of digests: the length of the token shows nothing either).
func (h *Handler) authorized(gateway, header string) bool {
	want, ok := h.hashes[gateway]
	tok, bearer := strings.CutPrefix(header, "Bearer ")
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && ok && bearer
}

// clean keeps the printable characters of a gateway's error code.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) && r < 0x7f {
			return r
		}
		return -1
	}, s)
}
