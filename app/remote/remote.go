// Package remote is a portal.Portal that calls the JSON API of
// `consulvoted serve`: the app's configured backend.
package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
)

// Client calls one backend.
type Client struct {
	// base is the backend's root URL, e.g. https://vote.example.
	base *url.URL
	// http carries the calls; its Timeout bounds each attempt.
	http *http.Client
	// retries is how many more times a call that is safe to repeat is
	// tried after a network failure.
	retries int
}

var _ portal.Portal = (*Client)(nil)

// Options configure a Client.
type Options struct {
	// Timeout bounds each attempt (default 15 s).
	Timeout time.Duration
	// TLS, when set, replaces the default TLS configuration (tests use it
	// to trust their own certificate).
	TLS *tls.Config
	// Retries for calls that are safe to repeat (default 2).
	Retries int
}

// New returns a client of the backend at base, which must be https (or
// http on a loopback address, for tests and local development).
func New(base string, opt Options) (*Client, error) {
	base = strings.TrimRight(base, "/")
	if err := portal.CheckServiceURL(base); err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	u, _ := url.Parse(base) // checked just above
	if opt.Timeout == 0 {
		opt.Timeout = 15 * time.Second
	}
	if opt.Retries == 0 {
		opt.Retries = 2
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if opt.TLS != nil {
		tr.TLSClientConfig = opt.TLS
	}
	return &Client{base: u, http: &http.Client{Timeout: opt.Timeout, Transport: tr}, retries: opt.Retries}, nil
}

// Backend returns the backend's URL, to show the user where the data is.
func (c *Client) Backend() string { return c.base.String() }

// call sends body to route and decodes the answer into out. idempotent
// calls are retried on network failures; a call whose effect is not safe
// to repeat (it spends a security code, counts a failure, sends a mail)
// is sent once.
func (c *Client) call(ctx context.Context, method, route string, body, out any, idempotent bool, header ...string) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("remote: encode: %w", err)
		}
	}
	tries := 1
	if idempotent {
		tries += c.retries
	}
	var err error
	for try := 0; try < tries; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return portal.ErrUnavailable
			case <-time.After(time.Duration(try) * 200 * time.Millisecond):
			}
		}
		var retry bool
		retry, err = c.once(ctx, method, route, payload, out, header)
		if !retry {
			return err
		}
	}
	return err
}

// once makes one attempt; retry says the failure was the network's.
func (c *Client) once(ctx context.Context, method, route string, payload []byte, out any, header []string) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+route, bytes.NewReader(payload))
	if err != nil {
		return false, fmt.Errorf("remote: %w", err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", api.ContentType)
	}
	req.Header.Set("Accept", api.ContentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// No answer: the backend is unreachable or too slow.
		return true, fmt.Errorf("%w: %v", portal.ErrUnavailable, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return true, fmt.Errorf("%w: %v", portal.ErrUnavailable, err)
	}
	if resp.StatusCode >= 400 {
		var e api.Error
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			if resp.StatusCode >= 500 {
				return resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable ||
					resp.StatusCode == http.StatusGatewayTimeout, portal.ErrUnavailable
			}
			return false, fmt.Errorf("remote: %s answered %d", route, resp.StatusCode)
		}
		return false, e.Error.PortalError()
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return false, nil
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return false, fmt.Errorf("remote: decode %s: %w", route, err)
		}
	}
	return false, nil
}

// NewSecurityCode implements portal.Portal. Asking twice only wastes a
// code, so it is retried.
func (c *Client) NewSecurityCode(ctx context.Context) (portal.SecurityCode, error) {
	var sc api.SecurityCode
	if err := c.call(ctx, http.MethodPost, api.SecurityCodes, struct{}{}, &sc, true); err != nil {
		return portal.SecurityCode{}, err
	}
	return portal.SecurityCode{ID: sc.ID, PNG: sc.PNG, ExpiresAt: sc.ExpiresAt}, nil
}

// SecurityCodeAudio implements portal.Portal. It only reads, so it is
// retried.
func (c *Client) SecurityCodeAudio(ctx context.Context, id, language string) ([]byte, error) {
	var b []byte
	route := api.SecurityCodes + "/" + url.PathEscape(id) + "/audio?lang=" + url.QueryEscape(language)
	if err := c.call(ctx, http.MethodGet, route, nil, &b, true); err != nil {
		return nil, err
	}
	return b, nil
}

// RequestIdentifierRenewal implements portal.Portal.
func (c *Client) RequestIdentifierRenewal(ctx context.Context, req portal.IdentifierRenewalRequest) error {
	return c.call(ctx, http.MethodPost, api.IdentifierRenewals, api.IdentifierRenewalRequest(req), nil, false)
}

// RequestPasswordRenewal implements portal.Portal.
func (c *Client) RequestPasswordRenewal(ctx context.Context, req portal.PasswordRenewalRequest) error {
	return c.call(ctx, http.MethodPost, api.PasswordRenewals, api.PasswordRenewalRequest(req), nil, false)
}

// InspectLink implements portal.Portal. It only reads, so it is retried.
func (c *Client) InspectLink(ctx context.Context, link string) (portal.LinkStatus, error) {
	// A malformed link is refused here, without sending it anywhere.
	if _, err := portal.ParseLinkToken(link); err != nil {
		return portal.LinkStatus{}, err
	}
	var st api.LinkStatus
	if err := c.call(ctx, http.MethodPost, api.LinkInspect, api.LinkRequest{Link: link}, &st, true); err != nil {
		return portal.LinkStatus{}, err
	}
	out := portal.LinkStatus{State: st.State}
	if st.ExpiresAt != nil {
		out.ExpiresAt = *st.ExpiresAt
	}
	return out, nil
}

// ConfirmIdentifierRenewal implements portal.Portal.
func (c *Client) ConfirmIdentifierRenewal(ctx context.Context, req portal.ConfirmRequest) (portal.Renewal, error) {
	var r api.Renewal
	if err := c.call(ctx, http.MethodPost, api.IdentifierConfirm, api.ConfirmRequest(req), &r, false); err != nil {
		return portal.Renewal{}, err
	}
	return portal.Renewal{Identifier: r.Identifier, NUMIC: r.NUMIC}, nil
}

// Login implements portal.Portal.
func (c *Client) Login(ctx context.Context, identifier, password string) (portal.Session, error) {
	var s api.Session
	err := c.call(ctx, http.MethodPost, api.Sessions, api.LoginRequest{Identifier: identifier, Password: password}, &s, false)
	if err != nil {
		return portal.Session{}, err
	}
	out := portal.Session{Token: s.Token, NUMICMasked: s.NUMICMasked, FirstNames: s.FirstNames,
		LastName: s.LastName, ExpiresAt: s.ExpiresAt}
	if s.LastLogin != nil {
		out.LastLogin = *s.LastLogin
	}
	return out, nil
}

// Logout implements portal.Portal. Ending a session twice is harmless, so
// it is retried.
func (c *Client) Logout(ctx context.Context, token string) error {
	return c.call(ctx, http.MethodDelete, api.Sessions, nil, nil, true, "Authorization", "Bearer "+token)
}
