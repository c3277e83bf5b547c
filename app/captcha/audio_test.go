package captcha

import (
	"bytes"
	"math"
	"math/cmplx"
	"sort"
	"strings"
	"testing"
	"time"

	"consulvote/app/wav"
)

func TestWAVParsesAndLasts(t *testing.T) {
	for _, language := range AudioLanguages {
		for _, digits := range []string{"0000", "1234", "5678", "9090", "7", "99999"} {
			b, err := WAV(digits, language, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", language, digits, err)
			}
			pcm, rate, err := wav.Decode(b)
			if err != nil {
				t.Fatalf("%s %s: not a WAV: %v", language, digits, err)
			}
			d := time.Duration(len(pcm)) * time.Second / time.Duration(rate)
			if d < 2*time.Second || d > 20*time.Second {
				t.Errorf("%s %s: lasts %v, want 2 to 20 s", language, digits, d)
			}
			if rate < 8000 {
				t.Errorf("%s: %d Hz", language, rate)
			}
		}
	}
}

func TestWAVDiffers(t *testing.T) {
	a, _ := WAV("1234", "fr", nil)
	b, _ := WAV("1235", "fr", nil)
	c, _ := WAV("1234", "fr", nil)
	e, _ := WAV("1234", "en", nil)
	if bytes.Equal(a, b) || bytes.Equal(a, c) || bytes.Equal(a, e) {
		t.Fatal("two sounds are the same")
	}
	// The same seed gives the same sound: the randomness is r's alone.
	seed := func() *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{7}, 32)) }
	x, _ := WAV("1234", "fr", seed())
	y, _ := WAV("1234", "fr", seed())
	if !bytes.Equal(x, y) {
		t.Fatal("the same seed gave two sounds")
	}
}

func TestWAVRefuses(t *testing.T) {
	for _, tc := range []struct{ digits, language string }{
		{"", "fr"}, {"12a4", "fr"}, {"١٢٣٤", "fr"}, {"1234", "de"}, {strings.Repeat("1", MaxAudioDigits+1), "fr"},
	} {
		if _, err := WAV(tc.digits, tc.language, nil); err == nil {
			t.Errorf("WAV(%q, %q) succeeded", tc.digits, tc.language)
		}
	}
}

// TestWAVSaysTheDigits recognises the digits back from the sound, by
// matching each digit's clip against it (normalised cross-correlation):
// the sound says the right digits, in order, twice. It is also the proof
// that a program can read the code, which is why the limits exist.
func TestWAVSaysTheDigits(t *testing.T) {
	if raceOn {
		t.Skip("pure computation, ten times slower under -race: make unit runs it")
	}
	voices, err := loadVoices()
	if err != nil {
		t.Fatal(err)
	}
	for _, language := range AudioLanguages {
		for _, digits := range []string{"0427", "1356", "8899", "2222"} {
			b, err := WAV(digits, language, nil)
			if err != nil {
				t.Fatal(err)
			}
			pcm, _, err := wav.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			// I: the announcement, A: "je répète".
			if got, want := recognise(pcm, voices[language]), "I"+digits+"A"+digits; got != want {
				t.Errorf("%s: the sound of %s reads %q, want %q", language, digits, got, want)
			}
		}
	}
}

// recognise finds the clips of v in pcm and returns them in order: a
// digit, I for the announcement, A for the word before the repetition.
// It works on every other sample, which is enough for speech.
func recognise(pcm []int16, v *voice) string {
	pcm = halve(pcm)
	n := 1
	for n < len(pcm)+len(v.intro) {
		n *= 2
	}
	sig := make([]complex128, n)
	for i, s := range pcm {
		sig[i] = complex(float64(s), 0)
	}
	fft(sig, false)
	// energy[i] is the sum of squares of pcm[:i], for each window's norm.
	energy := make([]float64, len(pcm)+1)
	for i, s := range pcm {
		energy[i+1] = energy[i] + float64(s)*float64(s)
	}
	type hit struct {
		at, end int
		token   byte
		score   float64
	}
	clips := map[byte][]int16{'I': halve(v.intro), 'A': halve(v.again)}
	for d, clip := range v.digits {
		clips[byte('0'+d)] = halve(clip)
	}
	var hits []hit
	for token, clip := range clips {
		tmpl := make([]complex128, n)
		var norm float64
		for i, s := range clip {
			tmpl[i] = complex(float64(s), 0)
			norm += float64(s) * float64(s)
		}
		norm = math.Sqrt(norm)
		fft(tmpl, false)
		for i := range tmpl {
			tmpl[i] = sig[i] * cmplx.Conj(tmpl[i])
		}
		fft(tmpl, true)
		// The best match in each stretch of the clip's length.
		best := hit{score: 0.5} // below this, noise
		for at := 0; at+len(clip) <= len(pcm); at++ {
			w := math.Sqrt(energy[at+len(clip)] - energy[at])
			if w == 0 {
				continue
			}
			score := real(tmpl[at]) / float64(n) / (norm * w)
			if score > best.score {
				best = hit{at: at, end: at + len(clip), token: token, score: score}
			}
			if best.end > 0 && at > best.at+len(clip) {
				hits = append(hits, best)
				best = hit{score: 0.5}
			}
		}
		if best.end > 0 {
			hits = append(hits, best)
		}
	}
	// The strongest matches win; a weaker one overlapping them is dropped.
	sort.Slice(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	var kept []hit
	for _, h := range hits {
		overlaps := false
		for _, k := range kept {
			overlaps = overlaps || (h.at < k.end && k.at < h.end)
		}
		if !overlaps {
			kept = append(kept, h)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].at < kept[j].at })
	var b strings.Builder
	for _, k := range kept {
		b.WriteByte(k.token)
	}
	return b.String()
}

// halve keeps the mean of each pair of samples.
func halve(pcm []int16) []int16 {
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16((int32(pcm[2*i]) + int32(pcm[2*i+1])) / 2)
	}
	return out
}

// fft is an in-place radix-2 FFT (len(a) a power of two); inverse
// leaves the result scaled by len(a).
func fft(a []complex128, inverse bool) {
	n := len(a)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		angle := -2 * math.Pi / float64(size)
		if inverse {
			angle = -angle
		}
		step := cmplx.Rect(1, angle)
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range size / 2 {
				u, v := a[start+k], a[start+k+size/2]*w
				a[start+k], a[start+k+size/2] = u+v, u-v
				w *= step
			}
		}
	}
}
