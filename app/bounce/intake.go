package bounce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// Delivery is what a report tells of one message: the only thing an
// intake ever records.
type Delivery struct {
	Message int64
	// State is "delivered", "delayed", "refused" or "expired" (returned
	// after temporary failures only).
	State string
	// Status is the remote server's answer, e.g. "5.1.1 <x@example.org>:
	// Recipient address rejected: User unknown"; at most 200 characters.
	Status string
}

// Sent is what the intake checks a report against: the message as it
// left.
type Sent struct {
	Recipient string
	MessageID string // its Message-Id header, "<…@…>"; "" when unknown
}

// ErrUnknown is a message the recorder does not know, or that was never
// sent as an e-mail.
var ErrUnknown = errors.New("bounce: no such message")

// Recorder is the outbox as the intake sees it (the service).
type Recorder interface {
	// Sent returns message id as it left, or ErrUnknown.
	Sent(ctx context.Context, id int64) (Sent, error)
	// Record sets the state a report gives a message.
	Record(ctx context.Context, d Delivery) error
}

// The outcomes of a message that reached the intake, counted (Counter).
const (
	Recorded       = "recorded"        // matched; the message's state set
	RefusedAddress = "refused_address" // not a signed return path of ours
	TooLarge       = "too_large"
	RateLimited    = "rate_limited"
	Malformed      = "malformed"
	Mismatch       = "mismatch" // names another message or recipient
	Loop           = "loop"     // a bounce of a bounce, or mail from our own return path
	Dropped        = "dropped"  // neither a report nor quoting the message's Message-Id
	Failed         = "failed"   // the recorder failed: the sender is asked to try again
)

// Outcomes lists them, for the metrics.
var Outcomes = []string{Recorded, RefusedAddress, TooLarge, RateLimited, Malformed, Mismatch, Loop, Dropped, Failed}

// Intake is the SMTP server of --bounce-listen: it accepts mail for the
// return paths only and records what the reports say of the message each
// names, nothing else.
type Intake struct {
	Addresses *Addresses
	Recorder  Recorder
	Log       *slog.Logger
	// Count is told each message's outcome (default: nobody).
	Count func(outcome string)
	// MaxBytes bounds a message (256 KiB: a report with headers only is a
	// few kilobytes).
	MaxBytes int64
	// Rate and Burst bound the messages accepted per second, all senders
	// together (20/s, bursts of 100); past them, "try again later".
	Rate  rate.Limit
	Burst int
	// MaxSessions bounds the connections open at once (64).
	MaxSessions int
	// Timeout bounds each read and write of a connection (30 s).
	Timeout time.Duration
	// Domain is the name in the greeting ("localhost").
	Domain string

	mu       sync.Mutex
	srv      *smtp.Server
	closed   bool
	limiter  *rate.Limiter
	sessions atomic.Int64
}

func (in *Intake) defaults() {
	if in.Log == nil {
		in.Log = slog.New(slog.DiscardHandler)
	}
	if in.Count == nil {
		in.Count = func(string) {}
	}
	if in.MaxBytes == 0 {
		in.MaxBytes = 256 << 10
	}
	if in.Rate == 0 {
		in.Rate, in.Burst = 20, 100
	}
	if in.MaxSessions == 0 {
		in.MaxSessions = 64
	}
	if in.Timeout == 0 {
		in.Timeout = 30 * time.Second
	}
	if in.Domain == "" {
		in.Domain = "localhost"
	}
}

// Serve accepts connections on l until Close.
func (in *Intake) Serve(l net.Listener) error {
	srv := in.server()
	in.mu.Lock()
	closed := in.closed
	in.mu.Unlock()
	if closed {
		l.Close()
		return nil
	}
	err := srv.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// server makes the SMTP server, once.
func (in *Intake) server() *smtp.Server {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.srv != nil {
		return in.srv
	}
	in.defaults()
	in.limiter = rate.NewLimiter(in.Rate, in.Burst)
	in.srv = smtp.NewServer(in)
	in.srv.Domain = in.Domain
	in.srv.MaxMessageBytes = in.MaxBytes
	in.srv.MaxRecipients = 1 // a report goes to the one return path of its message
	in.srv.ReadTimeout, in.srv.WriteTimeout = in.Timeout, in.Timeout
	in.srv.ErrorLog = slogLogger{in.Log}
	return in.srv
}

// Close stops the server and closes its connections; a Serve after it
// returns at once.
func (in *Intake) Close() error {
	srv := in.server()
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	return srv.Close()
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.log.Warn("bounce intake: " + fmt.Sprintf(format, v...))
}
func (l slogLogger) Println(v ...any) { l.log.Warn("bounce intake: " + fmt.Sprint(v...)) }

var (
	errBusy = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Too many connections, try again later"}
	errRate = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many reports, try again later"}
	errAddr = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such return path"}
	errLoop = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 4, 6}, Message: "Mail loop"}
	errTemp = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
)

// NewSession implements smtp.Backend.
func (in *Intake) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if in.sessions.Add(1) > int64(in.MaxSessions) {
		in.sessions.Add(-1)
		return nil, errBusy
	}
	return &session{in: in}, nil
}

type session struct {
	in      *Intake
	message int64 // named by the return path; 0 before RCPT
	ref     string
	ended   bool
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	// A report comes from the null sender; mail from a return path of
	// ours is one of our own reports coming back, which we never send.
	if from != "" && s.in.Addresses.Ours(from) {
		s.in.Count(Loop)
		return errLoop
	}
	if !s.in.limiter.Allow() {
		s.in.Count(RateLimited)
		return errRate
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	id, err := s.in.Addresses.Message(to)
	if err != nil {
		s.in.Count(RefusedAddress)
		return errAddr
	}
	s.message = id
	_, s.ref = s.in.Addresses.ReturnPath(id)
	return nil
}

func (s *session) Data(r io.Reader) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.in.Timeout)
	defer cancel()
	outcome, err := s.in.take(ctx, s.message, s.ref, r)
	s.in.Count(outcome)
	if outcome != Recorded {
		s.in.Log.Info("bounce dropped", "message", s.message, "outcome", outcome, "err", err)
	}
	switch {
	case outcome == TooLarge:
		return smtp.ErrDataTooLarge
	case outcome == Failed:
		return errTemp
	}
	// Anything else is taken and dropped: refusing it would only bring
	// it back, or bounce it to a sender that is not there.
	return nil
}

func (s *session) Reset() { s.message, s.ref = 0, "" }

func (s *session) Logout() error {
	if !s.ended {
		s.ended = true
		s.in.sessions.Add(-1)
	}
	return nil
}

// take reads what came back for message id and records it when it
// matches; it returns the outcome.
func (in *Intake) take(ctx context.Context, id int64, ref string, r io.Reader) (string, error) {
	p, err := Parse(r, in.Addresses.Ours)
	if errors.Is(err, smtp.ErrDataTooLarge) {
		return TooLarge, err
	}
	// The rest of a message that failed to parse is read, for its size.
	if _, cerr := io.Copy(io.Discard, r); errors.Is(cerr, smtp.ErrDataTooLarge) {
		return TooLarge, cerr
	}
	if err != nil {
		return Malformed, err
	}
	if p.Loop {
		return Loop, nil
	}
	sent, err := in.Recorder.Sent(ctx, id)
	if errors.Is(err, ErrUnknown) {
		return Mismatch, err
	}
	if err != nil {
		return Failed, err
	}
	d, outcome := match(id, ref, p, sent)
	if outcome != Recorded {
		return outcome, nil
	}
	if err := in.Recorder.Record(ctx, d); err != nil {
		return Failed, err
	}
	return Recorded, nil
}

// match checks a parsed message against the message its return path
// names and returns the delivery it tells. A report must name that
// message and nothing else: its envelope id (when given) the same
// reference, its returned Message-Id (when given) the same, one of its
// recipients the message's recipient; a message that is not a report
// counts only when it quotes the message's Message-Id.
func match(id int64, ref string, p Parsed, sent Sent) (Delivery, string) {
	for _, m := range p.MessageIDs {
		if sent.MessageID != "" && !strings.EqualFold(m, sent.MessageID) {
			return Delivery{}, Mismatch
		}
	}
	if !p.Report {
		if sent.MessageID == "" || len(p.MessageIDs) == 0 {
			return Delivery{}, Dropped
		}
		state := "refused"
		if code := statusCode.FindString(p.Text); strings.HasPrefix(code, "4.") {
			state = "delayed"
		}
		return Delivery{Message: id, State: state, Status: p.Text}, Recorded
	}
	if p.EnvelopeID != "" && !strings.EqualFold(p.EnvelopeID, ref) {
		return Delivery{}, Mismatch
	}
	to := strings.ToLower(sent.Recipient)
	for _, r := range p.Recipients {
		if r.Original != to && r.Final != to {
			continue
		}
		var state string
		switch {
		case r.Action == "failed" && strings.HasPrefix(r.Status, "4."):
			state = "expired" // given up after temporary failures
		case r.Action == "failed":
			state = "refused"
		case r.Action == "delayed":
			state = "delayed"
		case r.Action == "delivered":
			state = "delivered"
		default: // relayed, expanded: nothing more will be known
			return Delivery{}, Dropped
		}
		status := r.Diagnostic
		if !strings.Contains(status, r.Status) {
			status = strings.TrimSpace(r.Status + " " + status)
		}
		return Delivery{Message: id, State: state, Status: oneLine(status)}, Recorded
	}
	return Delivery{}, Mismatch
}
