package service

import (
	"context"
	"errors"
	"fmt"

	"consulvote/app/portal"
)

// InspectLink implements portal.Portal. It only reads.
func (s *Portal) InspectLink(ctx context.Context, link string) (portal.LinkStatus, error) {
	token, err := portal.ParseLinkToken(link)
	if err != nil {
		return portal.LinkStatus{}, err
	}
	var l Link
	err = s.store.View(ctx, func(tx Tx) error {
		l, err = tx.LinkByTokenHash(s.mac("link", token))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return portal.LinkStatus{State: portal.LinkUnknown}, nil
	}
	if err != nil {
		return portal.LinkStatus{}, fmt.Errorf("inspect link: %w", err)
	}
	return portal.LinkStatus{State: l.State(s.clock.Now()), ExpiresAt: l.ExpiresAt}, nil
}
