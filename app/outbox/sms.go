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
// a gateway URL, with a bearer token when set. Any 2xx answer is a send;
// its JSON "id", when there is one, is the gateway's id of the message,
// which the gateway's delivery receipts name.
type HTTPGateway struct {
	URL   string
	Token string
	HTTP  *http.Client // default: 15 s timeout
}

// MaxGatewayID bounds the gateway's id of a message, in bytes.
const MaxGatewayID = 128

// Send implements SMSGateway.
func (g HTTPGateway) Send(ctx context.Context, to, text string) (string, error) {
	body, _ := json.Marshal(map[string]string{"to": to, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("sms gateway: %w", err)
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
		return "", fmt.Errorf("sms gateway: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("sms gateway: answered %d", resp.StatusCode)
	}
	// Sent whatever the answer says: an id that is missing or unusable
	// only means no receipt will be matched.
	var a struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(answer, &a) != nil || len(a.ID) > MaxGatewayID || !isASCII(a.ID) {
		return "", nil
	}
	return a.ID, nil
}
