package screens

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"consulvote/app/service/servicetest"
	"consulvote/app/wav"
)

// fakePlayer records what it was asked to play; with fail set it has no
// audio device.
type fakePlayer struct {
	mu     sync.Mutex
	sounds [][]byte
	fail   bool
}

func (p *fakePlayer) Play(_ context.Context, sound []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("no audio device")
	}
	p.sounds = append(p.sounds, sound)
	return nil
}

// TestListenToTheCode: "Écouter le code" plays the code's sound, fetched
// through the portal (locally and from the server), in the UI's language;
// without an audio device it says so and how to get help.
func TestListenToTheCode(t *testing.T) {
	bothModes(t, func(t *testing.T, h *harness) {
		p := &fakePlayer{}
		h.ui.opt.Player = p
		h.Tap(screenAs[*homeScreen](h).lostID)
		r := screenAs[*requestScreen](h)
		h.See("Écouter le code")
		h.Tap(r.code.listen)
		h.Tap(r.code.listen)
		if len(p.sounds) != 2 {
			t.Fatalf("%d sounds played, want 2", len(p.sounds))
		}
		if _, _, err := wav.Decode(p.sounds[0]); err != nil {
			t.Fatalf("not a WAV: %v", err)
		}
		if bytes.Equal(p.sounds[0], p.sounds[1]) {
			t.Error("the same sound twice")
		}
		h.NotSee("Écoute du code en cours")
		p.fail = true
		h.Tap(r.code.listen)
		h.See("Le code ne peut pas être écouté : aucun périphérique audio n'est disponible sur cet ordinateur.")
		h.See("assistance@vote.example")
		// Listening spent nothing: the code still works.
		p.fail = false
		h.Tap(r.code.listen)
		r.numic.Entry.SetText(marie.NUMIC)
		r.email.Entry.SetText(marie.Email)
		h.Enter(r.code.Entry, servicetest.Code)
		screenAs[*sentScreen](h)
	})
}

func TestListenWithoutPlayer(t *testing.T) {
	h, _ := newFakeHarness(t)
	h.Tap(screenAs[*homeScreen](h).lostID)
	r := screenAs[*requestScreen](h)
	h.Tap(r.code.listen)
	h.See("aucun périphérique audio n'est disponible sur cet ordinateur")
}
