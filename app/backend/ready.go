package backend

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultOutboxStall is how long the delivery worker may show no sign of
// life before the back end is not ready.
const DefaultOutboxStall = 5 * time.Minute

// Ready reports why the back end cannot serve well, nil when it can: the
// database does not answer, its schema is not the version this program
// expects (another version migrated it), or the delivery worker has
// shown no sign of life for OutboxStall. One line per problem.
func (b *Backend) Ready(ctx context.Context) error {
	var problems []error
	v, err := b.Store.SchemaVersion(ctx)
	switch want := b.Store.LatestSchema(); {
	case err != nil:
		problems = append(problems, fmt.Errorf("database: unreachable: %w", err))
	case v != want:
		problems = append(problems, fmt.Errorf("database: schema at version %d, this program expects %d", v, want))
	}
	b.mu.Lock()
	w, started, running := b.delivery, b.started, b.stop != nil
	every, ok, cpErr := b.every, b.checkpointOK, b.checkpointErr
	b.mu.Unlock()
	// A checkpoint failing for three periods leaves rows unsigned that a
	// database writer could cut unseen: whoever watches readiness is told.
	if running && cpErr != nil && time.Since(ok) > 3*every {
		problems = append(problems, fmt.Errorf("audit: checkpoints failing since %s: %w",
			ok.UTC().Format(time.RFC3339), cpErr))
	}
	if w != nil && running {
		stall := b.cfg.OutboxStall
		if stall == 0 {
			stall = DefaultOutboxStall
		}
		last := w.LastProgress()
		if last.IsZero() {
			last = started
		}
		if since := time.Since(last); since > stall {
			problems = append(problems, fmt.Errorf("outbox: delivery worker stuck: no progress for %s (threshold %s)",
				since.Round(time.Second), stall))
		}
	}
	return errors.Join(problems...)
}
