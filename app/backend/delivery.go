package backend

import (
	"context"
	"errors"
	"net/http"

	"consulvote/app/bounce"
	"consulvote/app/outbox"
	"consulvote/app/receipt"
	"consulvote/app/service"
)

// Intake returns the bounce intake of the return paths, recording in the
// service what the reports say (nil without Config.BounceAddress). The
// caller serves it on its listener and closes it.
func (b *Backend) Intake() *bounce.Intake {
	if b.Bounces == nil {
		return nil
	}
	in := &bounce.Intake{Addresses: b.Bounces, Recorder: deliveries{b}, Log: b.log}
	if b.cfg.Observer != nil {
		in.Count = b.cfg.Observer.Bounce
	}
	return in
}

// Receipts returns the handler of the SMS gateways' delivery receipts
// (nil without a receipt token), to mount at receipt.Path.
func (b *Backend) Receipts() http.Handler {
	if b.cfg.SMSReceiptToken == "" && b.cfg.SMSFallbackReceiptToken == "" {
		return nil
	}
	var count func(string)
	if b.cfg.Observer != nil {
		count = b.cfg.Observer.Receipt
	}
	return receipt.New(map[string]string{outbox.PrimaryGateway: b.cfg.SMSReceiptToken,
		outbox.FallbackGateway: b.cfg.SMSFallbackReceiptToken}, deliveries{b}, b.log, count)
}

// deliveries records reports and receipts in the service, and counts the
// changes (once, by the instance that made them).
type deliveries struct{ b *Backend }

var (
	_ bounce.Recorder  = deliveries{}
	_ receipt.Recorder = deliveries{}
)

func (d deliveries) Sent(ctx context.Context, id int64) (bounce.Sent, error) {
	s, err := d.b.Service.Operator.SentEmail(ctx, id)
	if errors.Is(err, service.ErrNotFound) {
		return bounce.Sent{}, bounce.ErrUnknown
	}
	return bounce.Sent{Recipient: s.Recipient, MessageID: s.MessageID}, err
}

func (d deliveries) Record(ctx context.Context, r bounce.Delivery) error {
	_, err := d.record(ctx, r.Message, service.ChannelEmail, r.State, r.Status)
	return err
}

func (d deliveries) SMS(ctx context.Context, gateway, id string) (int64, error) {
	n, err := d.b.Service.Operator.SMSByGatewayID(ctx, gateway, id)
	if errors.Is(err, service.ErrNotFound) {
		return 0, receipt.ErrUnknown
	}
	return n, err
}

func (d deliveries) RecordSMS(ctx context.Context, id int64, state, status string) (bool, error) {
	return d.record(ctx, id, service.ChannelSMS, state, status)
}

func (d deliveries) record(ctx context.Context, id int64, channel service.Channel, state, status string) (bool, error) {
	changed, err := d.b.Service.Operator.RecordDelivery(ctx, id, channel, state, status)
	if changed && d.b.cfg.Observer != nil {
		d.b.cfg.Observer.DeliveryState(channel, state)
	}
	return changed, err
}
