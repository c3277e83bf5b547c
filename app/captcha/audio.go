package captcha

import (
	crand "crypto/rand"
	"embed"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path"
	"sync"

	"consulvote/app/wav"
)

// The clips are spoken by espeak-ng at build time; see voice/README.
//
//go:generate go run ./internal/genvoice voice

//go:embed voice/*/*.wav
var voiceFiles embed.FS

// AudioLanguages are the languages a code can be spoken in.
var AudioLanguages = []string{"fr", "en"}

// MaxAudioDigits bounds the digits one sound says, and so its length.
const MaxAudioDigits = 5

// voice is one language's clips, decoded.
type voice struct {
	rate         int
	digits       [10][]int16
	intro, again []int16
}

// loadVoices decodes the embedded clips once; they never change.
var loadVoices = sync.OnceValues(func() (map[string]*voice, error) {
	voices := map[string]*voice{}
	for _, language := range AudioLanguages {
		v := &voice{}
		clip := func(name string) ([]int16, error) {
			b, err := voiceFiles.ReadFile(path.Join("voice", language, name+".wav"))
			if err != nil {
				return nil, err
			}
			pcm, rate, err := wav.Decode(b)
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", language, name, err)
			}
			if v.rate != 0 && rate != v.rate {
				return nil, fmt.Errorf("%s/%s: %d Hz, the others %d Hz", language, name, rate, v.rate)
			}
			v.rate = rate
			return pcm, nil
		}
		var err error
		for d := range v.digits {
			if v.digits[d], err = clip(fmt.Sprint(d)); err != nil {
				return nil, err
			}
		}
		if v.intro, err = clip("intro"); err != nil {
			return nil, err
		}
		if v.again, err = clip("again"); err != nil {
			return nil, err
		}
		voices[language] = v
	}
	return voices, nil
})

// WAV says digits in language ("fr" or "en") as a WAV file: the
// announcement, the digits, then the digits again, each at its own volume
// after a pause of random length, over noise and scraps of reversed
// speech. r seeds the randomness (crypto/rand.Reader when nil): two
// sounds of one code differ.
//
// This stops only the simplest scripts: the words are always the same
// clips, which a program can find by correlation (captcha's own test
// does). The service's limits — one try per code, few codes per client,
// few requests per NUMIC — are what hold against robots.
func WAV(digits, language string, r io.Reader) ([]byte, error) {
	if err := checkDigits(digits); err != nil {
		return nil, err
	}
	if len(digits) > MaxAudioDigits {
		return nil, fmt.Errorf("captcha: %d digits to say, at most %d", len(digits), MaxAudioDigits)
	}
	voices, err := loadVoices()
	if err != nil {
		return nil, fmt.Errorf("captcha: voices: %w", err)
	}
	v, ok := voices[language]
	if !ok {
		return nil, fmt.Errorf("captcha: no voice for %q", language)
	}
	rng, err := seeded(r)
	if err != nil {
		return nil, err
	}
	seconds := func(lo, hi float64) int { return int((lo + (hi-lo)*rng.Float64()) * float64(v.rate)) }

	var out []float64
	pause := func(lo, hi float64) { out = append(out, make([]float64, seconds(lo, hi))...) }
	say := func(clip []int16, gain float64) {
		for _, s := range clip {
			out = append(out, float64(s)*gain)
		}
	}
	pause(0.3, 0.6)
	say(v.intro, 0.9)
	for _, lead := range [][]int16{nil, v.again} {
		if lead != nil {
			pause(0.6, 0.9)
			say(lead, 0.9)
		}
		pause(0.5, 0.8)
		for i := range len(digits) {
			if i > 0 {
				pause(0.35, 0.9)
			}
			say(v.digits[digits[i]-'0'], 0.7+0.3*rng.Float64())
		}
	}
	pause(0.3, 0.6)

	return wav.Encode(blur(out, v, rng), v.rate), nil
}

// blur mixes into out scraps of other words, reversed and quiet, so that
// the loud parts are not simply the digits; then a hiss. It returns the
// samples clipped to 16 bits.
func blur(out []float64, v *voice, rng *rand.Rand) []int16 {
	for range 6 + rng.IntN(5) {
		clip := v.digits[rng.IntN(10)]
		at, gain := rng.IntN(len(out)), 0.1+0.08*rng.Float64()
		for k := range clip {
			if at+k < len(out) {
				out[at+k] += float64(clip[len(clip)-1-k]) * gain
			}
		}
	}
	pcm := make([]int16, len(out))
	for i, s := range out {
		s += rng.NormFloat64() * 300
		pcm[i] = int16(math.Max(math.MinInt16, math.Min(math.MaxInt16, math.Round(s))))
	}
	return pcm
}

// seeded is a fast random stream (ChaCha8) keyed from r.
func seeded(r io.Reader) (*rand.Rand, error) {
	if r == nil {
		r = crand.Reader
	}
	var seed [32]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("captcha: random: %w", err)
	}
	return rand.New(rand.NewChaCha8(seed)), nil
}
