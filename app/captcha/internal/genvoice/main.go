// Command genvoice renders the words of the spoken security code with
// espeak-ng into small WAV clips, one per word and language, trimmed of
// their silence: `go generate ./app/captcha` (needs espeak-ng installed;
// the clips are committed, so building and testing do not).
//
// Only espeak-ng's own formant voices are used, never the MBROLA ones,
// whose diphone databases carry a licence of their own. espeak-ng is
// GPL-3.0-or-later; the sound it computes is its output, not a copy of
// the program, and the GPL does not cover it (see voice/README).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"consulvote/app/wav"
)

// words are the clips, by language and name: the ten digits, the
// announcement, and the word before the repetition.
var words = map[string]map[string]string{
	"fr": {"0": "zéro", "1": "un", "2": "deux", "3": "trois", "4": "quatre", "5": "cinq",
		"6": "six", "7": "sept", "8": "huit", "9": "neuf",
		"intro": "Code de sécurité", "again": "Je répète"},
	"en": {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
		"6": "six", "7": "seven", "8": "eight", "9": "nine",
		"intro": "Security code", "again": "Once more"},
}

// voices are espeak-ng's formant voices (not MBROLA).
var voices = map[string]string{"fr": "fr-fr", "en": "en-gb"}

func main() {
	out := "voice"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := run(out); err != nil {
		fmt.Fprintln(os.Stderr, "genvoice:", err)
		os.Exit(1)
	}
}

func run(folder string) error {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		return errors.New("espeak-ng is not installed (apt-get install espeak-ng)")
	}
	for language, ws := range words {
		dir := filepath.Join(folder, language)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for name, text := range ws {
			// -s: words per minute, a little slower than the default 175.
			cmd := exec.Command("espeak-ng", "-v", voices[language], "-s", "140", "--stdout", text)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("espeak-ng %q: %v: %s", text, err, stderr.String())
			}
			pcm, rate, err := wav.Decode(out)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", language, name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".wav"), wav.Encode(trim(pcm), rate), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// trim drops the silence before and after the word.
func trim(pcm []int16) []int16 {
	const quiet = 200
	loud := func(v int16) bool { return v > quiet || v < -quiet }
	start, end := 0, len(pcm)
	for start < end && !loud(pcm[start]) {
		start++
	}
	for end > start && !loud(pcm[end-1]) {
		end--
	}
	return pcm[start:end]
}
