package words

import (
	"context"
	"fmt"
	"testing"

	"consulvote/app/portal"
	"consulvote/screens/screenstest"
)

func TestMain(m *testing.M) { screenstest.Main(m) }

// TestTimeoutSaysUnavailable: a call that ran out of time (ui.Call's
// timeout) is said as the portal's "unavailable", not as an internal
// error.
func TestTimeoutSaysUnavailable(t *testing.T) {
	want := Error(portal.ErrUnavailable, "assistance")
	if want == Error(nil, "assistance") {
		t.Fatalf("unavailable is said as an internal error: %q", want)
	}
	if got := Error(fmt.Errorf("find voters: %w", context.DeadlineExceeded), "assistance"); got != want {
		t.Errorf("a timeout says %q, want %q", got, want)
	}
}
