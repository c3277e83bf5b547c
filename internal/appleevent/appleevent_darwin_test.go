//go:build darwin && cgo

package appleevent

import "testing"

// TestGetURL: a get-URL Apple Event reaches the handler with its URL.
// Run on macOS only (the hosted runner of .github/workflows/desktop.yml).
func TestGetURL(t *testing.T) {
	got := make(chan string, 1)
	OnGetURL(func(url string) { got <- url })
	const link = "consulvote://renouvellement?jeton=AbC-123_x"
	if err := dispatch(link); err != nil {
		t.Fatal(err)
	}
	select {
	case url := <-got:
		if url != link {
			t.Errorf("handler got %q, want %q", url, link)
		}
	default:
		t.Fatal("the handler was not called")
	}
}
