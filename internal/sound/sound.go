// Package sound plays the spoken security code on the computer's audio
// device, through oto (ALSA on Linux, WASAPI on Windows, Core Audio on
// macOS). It needs cgo on Linux, so it lives beside main, not under app/.
package sound

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebitengine/oto/v3"

	"consulvote/app/wav"
)

// ErrNoDevice means the computer has no audio output that works.
var ErrNoDevice = errors.New("sound: no audio device")

// Speaker plays WAV sounds (16-bit mono PCM), one at a time. Its zero
// value is ready; the audio device is opened at the first sound, once
// per process (oto allows one context), at that sound's sample rate.
type Speaker struct {
	mu   sync.Mutex // one sound at a time
	open sync.Once
	ctx  *oto.Context
	rate int
	err  error
}

// Play plays sound and returns when it has been heard, or when ctx ends
// (the sound stops then). Without an audio device it returns ErrNoDevice.
func (s *Speaker) Play(ctx context.Context, sound []byte) error {
	pcm, rate, err := wav.Decode(sound)
	if err != nil {
		return fmt.Errorf("sound: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open.Do(func() {
		c, ready, err := oto.NewContext(&oto.NewContextOptions{SampleRate: rate, ChannelCount: 1, Format: oto.FormatSignedInt16LE})
		if err == nil {
			<-ready
			err = c.Err()
		}
		if err != nil {
			s.err = fmt.Errorf("%w: %v", ErrNoDevice, err)
			return
		}
		s.ctx, s.rate = c, rate
	})
	if s.err != nil {
		return s.err
	}
	if rate != s.rate {
		return fmt.Errorf("sound: %d Hz, the device was opened at %d Hz", rate, s.rate)
	}
	var raw bytes.Buffer
	binary.Write(&raw, binary.LittleEndian, pcm)
	p := s.ctx.NewPlayer(&raw) // no Close: oto v3.4 frees a player by itself
	p.Play()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for p.IsPlaying() {
		select {
		case <-ctx.Done():
			p.Pause()
			return ctx.Err()
		case <-tick.C:
		}
	}
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrNoDevice, err)
	}
	return nil
}
