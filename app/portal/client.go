package portal

import "context"

type clientKey struct{}

// WithClient returns ctx carrying the address a request came from (the
// server sets it), so that the service can slow down guessing from one
// source without locking an account for everyone.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// Client returns the address WithClient put in ctx, or "local" when the
// call did not come through the server (the app's local mode, commands).
func Client(ctx context.Context) string {
	if a, ok := ctx.Value(clientKey{}).(string); ok && a != "" {
		return a
	}
	return "local"
}
