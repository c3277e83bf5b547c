package backend

import (
	"context"
	"errors"
	"net/url"
	"time"

	"consulvote/app/outbox"
)

// Start runs, until Close, the audit checkpoints and the purge of old
// rate events (now, then every CheckpointEvery) and, when a relay or a
// gateway is configured, the outbox worker.
func (b *Backend) Start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop != nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	every := b.cfg.CheckpointEvery
	if every == 0 {
		every = DefaultCheckpointEvery
	}
	b.every, b.checkpointOK, b.checkpointErr = every, time.Now(), nil
	b.running.Go(func() { b.checkpoints(ctx, every) })
	b.started = time.Now()
	if w := b.worker(); w != nil {
		b.delivery = w
		b.running.Go(func() { w.Run(ctx) })
	}
}

// worker returns the delivery worker, or nil when nothing can deliver.
func (b *Backend) worker() *outbox.Worker {
	if b.cfg.SMTP == "" && b.cfg.SMSGateway == "" {
		return nil
	}
	w := &outbox.Worker{Store: b.Store, Open: b.Service.Operator.OpenMessage, From: b.Service.Operator.Sender(), Log: b.log,
		Drain: b.cfg.Drain, Lease: b.cfg.OutboxLease}
	if b.cfg.Observer != nil {
		w.Observer = b.cfg.Observer
	}
	if b.Bounces != nil {
		w.ReturnPaths = b.Bounces
	}
	if b.cfg.SMTP != "" {
		m, _ := outbox.ParseSMTPURL(b.cfg.SMTP, b.cfg.SMTPTLS) // checked by Validate
		w.Mail, w.MailRelay = m, relayName(b.cfg.SMTP)
	}
	if b.cfg.SMSGateway != "" {
		w.SMS, w.SMSRelay = outbox.HTTPGateway{URL: b.cfg.SMSGateway, Token: b.cfg.SMSToken}, relayName(b.cfg.SMSGateway)
	}
	if b.cfg.SMSFallback != "" {
		w.SMSFallback = outbox.HTTPGateway{URL: b.cfg.SMSFallback, Token: b.cfg.SMSFallbackToken}
		w.SMSFallbackRelay, w.FallbackAfter = relayName(b.cfg.SMSFallback), b.cfg.SMSFallbackAfter
	}
	return w
}

// checkpoints signs the audit rows committed since the last checkpoint
// every period until ctx ends, and purges the rate events that no window
// counts any more.
func (b *Backend) checkpoints(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := b.Service.Operator.CheckpointAudit(ctx); err != nil && ctx.Err() == nil {
			// Not "audit checkpoint": that message is a signed checkpoint,
			// which audit verify --checkpoints-from reads.
			b.log.Error("audit checkpoint not signed", "err", err)
			b.mu.Lock()
			b.checkpointErr = err
			b.mu.Unlock()
		} else if err == nil {
			b.mu.Lock()
			b.checkpointOK, b.checkpointErr = time.Now(), nil
			b.mu.Unlock()
		}
		if n, err := b.Service.Operator.PurgeRateEvents(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("purge rate events", "err", err)
		} else if n > 0 {
			b.log.Debug("rate events purged", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop stops what Start started and waits for it: the delivery worker
// finishes the message it is sending (for up to Drain) and records its
// outcome. The store stays open: a server stops its background work while
// its last requests drain, and closes the store after them.
func (b *Backend) Stop() {
	b.mu.Lock()
	stop := b.stop
	b.stop = nil
	if stop != nil {
		b.stopped = true
	}
	b.mu.Unlock()
	if stop != nil {
		stop()
		b.running.Wait()
	}
}

// Close stops what Start started, signs a last audit checkpoint if it
// had started or wrote to the audit log (the
// commands that never Start write rows too: unsigned, audit verify would
// report them), and closes the store.
func (b *Backend) Close() error {
	b.Stop()
	b.mu.Lock()
	started := b.stopped
	b.mu.Unlock()
	var err error
	if started || b.Service.Operator.Audited() {
		// The service bounds it (Config.CheckpointWait): a lock held elsewhere
		// cannot hang the stop.
		err = b.Service.Operator.CheckpointAudit(context.Background())
	}
	return errors.Join(err, b.Store.Close())
}

// relayName names a relay or a gateway for the metrics: its host name,
// without user, password, port, path or query.
func relayName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return "unknown"
	}
	return u.Hostname()
}
