package sound

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"consulvote/app/captcha"
)

// TestPlayWithoutDevice: on a machine without a sound card (CI, this
// container: no /dev/snd), Play says so with ErrNoDevice, promptly, and
// says it again the next time.
func TestPlayWithoutDevice(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("whether this machine has a sound card is known on Linux only (/dev/snd)")
	}
	if _, err := os.Stat("/dev/snd"); err == nil {
		t.Skip("this machine has a sound card: the no-device answer cannot be tested here")
	}
	b, err := captcha.WAV("1234", "fr", nil)
	if err != nil {
		t.Fatal(err)
	}
	var s Speaker
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		if err := s.Play(ctx, b); !errors.Is(err, ErrNoDevice) {
			t.Fatalf("Play without a device: %v, want ErrNoDevice", err)
		}
	}
	if err := s.Play(ctx, []byte("not a wav")); err == nil || errors.Is(err, ErrNoDevice) {
		t.Fatalf("Play of garbage: %v", err)
	}
}
