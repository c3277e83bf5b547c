package backend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"consulvote/app/service"
)

// TestLaterWaits: calls made before the back end is opened wait for it,
// many at once, and then succeed; none fails for it.
func TestLaterWaits(t *testing.T) {
	ctx := context.Background()
	l := NewLater(Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true, Demo: true})
	t.Cleanup(func() { l.Close() })
	// A login, and security codes drawn at once (one voter's logins in
	// flight are limited by the service, not by the wait).
	const n = 8
	done := make(chan error, n+1)
	go func() {
		s, err := l.Login(ctx, service.DemoRoll[0].Identifier, service.DemoRoll[0].Password)
		if err == nil && s.FirstNames != service.DemoRoll[0].FirstNames {
			err = errors.New("the session of another voter")
		}
		done <- err
	}()
	for range n {
		go func() {
			c, err := l.NewSecurityCode(ctx)
			if err == nil && len(c.PNG) == 0 {
				err = errors.New("no picture")
			}
			done <- err
		}()
	}
	select {
	case err := <-done:
		t.Fatalf("a call returned before the back end was opened: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	l.Open(ctx)
	for range n + 1 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("a call after the open: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the waiting calls did not return within 30 s of the open")
		}
	}
	// A waiting call still ends with its own context.
	waiting := NewLater(Config{Database: filepath.Join(t.TempDir(), "portal.db"), Create: true})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := waiting.NewSecurityCode(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call whose context ends while it waits: %v, want its deadline", err)
	}
	if err := waiting.Close(); err != nil {
		t.Errorf("closing a back end never opened: %v", err)
	}
}

// TestLaterOpenError: when the store cannot be opened, Wait and every call
// answer why, naming the setting.
func TestLaterOpenError(t *testing.T) {
	ctx := context.Background()
	notADB := filepath.Join(t.TempDir(), "portal.db")
	if err := os.WriteFile(notADB, []byte("not a database, not at all: some text to fill a page header"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := NewLater(Config{Database: notADB, Create: true})
	l.Open(ctx)
	_, err := l.Wait(ctx)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Setting != "db" {
		t.Fatalf("Wait: %v, want a --db error", err)
	}
	if _, cerr := l.InspectLink(ctx, "x"); cerr != err {
		t.Errorf("a call after the failed open: %v, want %v", cerr, err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after a failed open: %v", err)
	}
}
