package backend

import (
	"context"
	"io"
	"sync"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// Later is a back end opened in the background, for the app: its window
// and first screen come before the store is opened, migrated and seeded
// and before Start's workers. It serves the portal's interfaces from the
// first moment: a call made before the back end is ready waits for it (or
// for the call's ctx), and after a failed open it answers the open's
// error.
type Later struct {
	cfg   Config
	once  sync.Once
	ready chan struct{} // closed when the open has ended
	b     *Backend
	err   error
}

var (
	_ portal.Portal    = (*Later)(nil)
	_ portal.Outbox    = (*Later)(nil)
	_ portal.Office    = (*Later)(nil)
	_ portal.RollAdmin = (*Later)(nil)
)

// NewLater returns the back end of cfg, not opened yet: Open opens it.
func NewLater(cfg Config) *Later { return &Later{cfg: cfg, ready: make(chan struct{})} }

// Open opens and Starts the back end in the background; later calls do
// nothing.
func (l *Later) Open(ctx context.Context) {
	l.once.Do(func() {
		go func() {
			defer close(l.ready)
			if l.b, l.err = Open(ctx, l.cfg); l.err == nil {
				l.b.Start()
			}
		}()
	})
}

// Wait returns the back end once it is open, or why it could not open.
func (l *Later) Wait(ctx context.Context) (*Backend, error) {
	select {
	case <-l.ready:
		return l.b, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close waits for an open under way and closes what it opened.
func (l *Later) Close() error {
	opened := true
	l.once.Do(func() { opened = false })
	if !opened {
		return nil
	}
	<-l.ready
	if l.b == nil {
		return nil
	}
	return l.b.Close()
}

var _ io.Closer = (*Later)(nil)

// call runs f on the service once it is ready.
func call[T any](ctx context.Context, l *Later, f func(*service.Service) (T, error)) (T, error) {
	b, err := l.Wait(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return f(b.Service)
}

// do is call for the methods that return only an error.
func do(ctx context.Context, l *Later, f func(*service.Service) error) error {
	_, err := call(ctx, l, func(s *service.Service) (struct{}, error) { return struct{}{}, f(s) })
	return err
}

// The portal, each call once the service is ready.

func (l *Later) NewSecurityCode(ctx context.Context) (portal.SecurityCode, error) {
	return call(ctx, l, func(s *service.Service) (portal.SecurityCode, error) { return s.Portal.NewSecurityCode(ctx) })
}

func (l *Later) SecurityCodeAudio(ctx context.Context, id, language string) ([]byte, error) {
	return call(ctx, l, func(s *service.Service) ([]byte, error) { return s.Portal.SecurityCodeAudio(ctx, id, language) })
}

func (l *Later) RequestIdentifierRenewal(ctx context.Context, req portal.IdentifierRenewalRequest) error {
	return do(ctx, l, func(s *service.Service) error { return s.Portal.RequestIdentifierRenewal(ctx, req) })
}

func (l *Later) InspectLink(ctx context.Context, link string) (portal.LinkStatus, error) {
	return call(ctx, l, func(s *service.Service) (portal.LinkStatus, error) { return s.Portal.InspectLink(ctx, link) })
}

func (l *Later) ConfirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	return call(ctx, l, func(s *service.Service) (portal.Renewal, error) { return s.Portal.ConfirmIdentifierRenewal(ctx, req) })
}

func (l *Later) RequestPasswordRenewal(ctx context.Context, req portal.PasswordRenewalRequest) error {
	return do(ctx, l, func(s *service.Service) error { return s.Portal.RequestPasswordRenewal(ctx, req) })
}

func (l *Later) Login(ctx context.Context, identifier, password string) (portal.Session, error) {
	return call(ctx, l, func(s *service.Service) (portal.Session, error) { return s.Portal.Login(ctx, identifier, password) })
}

func (l *Later) Logout(ctx context.Context, token string) error {
	return do(ctx, l, func(s *service.Service) error { return s.Portal.Logout(ctx, token) })
}

func (l *Later) Messages(ctx context.Context, limit int) ([]portal.Message, error) {
	return call(ctx, l, func(s *service.Service) ([]portal.Message, error) { return s.Portal.Messages(ctx, limit) })
}

// The office.

func (l *Later) AgentLogin(ctx context.Context, name, password, code string) (portal.AgentSession, error) {
	return call(ctx, l, func(s *service.Service) (portal.AgentSession, error) {
		return s.Office.AgentLogin(ctx, name, password, code)
	})
}

func (l *Later) AgentLogout(ctx context.Context, token string) error {
	return do(ctx, l, func(s *service.Service) error { return s.Office.AgentLogout(ctx, token) })
}

func (l *Later) FindVoters(ctx context.Context, token, query string) ([]portal.VoterSummary, error) {
	return call(ctx, l, func(s *service.Service) ([]portal.VoterSummary, error) { return s.Office.FindVoters(ctx, token, query) })
}

func (l *Later) VoterFile(ctx context.Context, token string, voterID int64) (portal.VoterFile, error) {
	return call(ctx, l, func(s *service.Service) (portal.VoterFile, error) { return s.Office.VoterFile(ctx, token, voterID) })
}

func (l *Later) UnlockVoter(ctx context.Context, token string, voterID int64, reason string) error {
	return do(ctx, l, func(s *service.Service) error { return s.Office.UnlockVoter(ctx, token, voterID, reason) })
}

func (l *Later) CancelLinks(ctx context.Context, token string, voterID int64, reason string) (int, error) {
	return call(ctx, l, func(s *service.Service) (int, error) { return s.Office.CancelLinks(ctx, token, voterID, reason) })
}

func (l *Later) OutboxStatus(ctx context.Context, token string) (portal.OutboxStatus, error) {
	return call(ctx, l, func(s *service.Service) (portal.OutboxStatus, error) { return s.Office.OutboxStatus(ctx, token) })
}

func (l *Later) RetryMessage(ctx context.Context, token string, messageID int64, reason string) error {
	return do(ctx, l, func(s *service.Service) error { return s.Office.RetryMessage(ctx, token, messageID, reason) })
}

func (l *Later) VerifyAudit(ctx context.Context, token string) (portal.AuditReport, error) {
	return call(ctx, l, func(s *service.Service) (portal.AuditReport, error) { return s.Office.VerifyAudit(ctx, token) })
}

func (l *Later) AuditEntries(ctx context.Context, token string, f portal.AuditFilter) ([]portal.HistoryEntry, error) {
	return call(ctx, l, func(s *service.Service) ([]portal.HistoryEntry, error) { return s.Office.AuditEntries(ctx, token, f) })
}

func (l *Later) ProposeContactChange(ctx context.Context, token string, req portal.ContactChangeRequest) (portal.ContactChange, error) {
	return call(ctx, l, func(s *service.Service) (portal.ContactChange, error) {
		return s.Office.ProposeContactChange(ctx, token, req)
	})
}

func (l *Later) PendingContactChanges(ctx context.Context, token string) ([]portal.ContactChange, error) {
	return call(ctx, l, func(s *service.Service) ([]portal.ContactChange, error) {
		return s.Office.PendingContactChanges(ctx, token)
	})
}

func (l *Later) ApproveContactChange(ctx context.Context, token string, id int64) (portal.ContactChange, error) {
	return call(ctx, l, func(s *service.Service) (portal.ContactChange, error) {
		return s.Office.ApproveContactChange(ctx, token, id)
	})
}

func (l *Later) RejectContactChange(ctx context.Context, token string, id int64, reason string) (portal.ContactChange, error) {
	return call(ctx, l, func(s *service.Service) (portal.ContactChange, error) {
		return s.Office.RejectContactChange(ctx, token, id, reason)
	})
}

func (l *Later) StartRenewal(ctx context.Context, token string, voterID int64, kind portal.RenewalKind, reason string) (portal.DeskRenewal, error) {
	return call(ctx, l, func(s *service.Service) (portal.DeskRenewal, error) {
		return s.Office.StartRenewal(ctx, token, voterID, kind, reason)
	})
}

// The roll, in local mode.

func (l *Later) ImportRollAs(ctx context.Context, token string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	return call(ctx, l, func(s *service.Service) (portal.ImportReport, error) {
		return s.Office.ImportRollAs(ctx, token, r, progress)
	})
}

func (l *Later) SendFirstCredentialsAs(ctx context.Context, token, campaign string, progress func(portal.CampaignReport)) (portal.CampaignReport, error) {
	return call(ctx, l, func(s *service.Service) (portal.CampaignReport, error) {
		return s.Office.SendFirstCredentialsAs(ctx, token, campaign, progress)
	})
}
