package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTPGateway sends an SMS as a JSON POST {"to": "+33…", "text": "…"} to
// a gateway URL, with a bearer token when set. Any 2xx answer is a send.
type HTTPGateway struct {
	URL   string
	Token string
	HTTP  *http.Client // default: 15 s timeout
}

// Send implements SMSGateway.
func (g HTTPGateway) Send(ctx context.Context, to, text string) error {
	body, _ := json.Marshal(map[string]string{"to": to, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	client := g.HTTP
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms gateway: answered %d", resp.StatusCode)
	}
	return nil
}
