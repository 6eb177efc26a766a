package tts

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"

	"github.com/voxflow/voxflow/media/wav"
)

// The shipped prompts were rendered once with
//
//	espeak-ng -v en-us -s 165 --stdout TEXT | sox -t wav - -r 8000 -b 16 -c 1 \
//	  -e signed-integer NAME.wav silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
//
//go:embed fallback/*.wav
var fallbackFS embed.FS

// fallbackTexts maps each shipped prompt to the text it says.
var fallbackTexts = map[string]string{
	"please-hold": "Please hold.",
	"problem":     "Sorry, there was a problem.",
	"goodbye":     "Goodbye.",
	"thank-you":   "Thank you for calling.",
	"invalid":     "Sorry, that is not a valid choice.",
	"transfer":    "Please hold while we transfer your call.",
	"no-input":    "Sorry, I did not hear anything.",
	"digit-0":     "zero",
	"digit-1":     "one",
	"digit-2":     "two",
	"digit-3":     "three",
	"digit-4":     "four",
	"digit-5":     "five",
	"digit-6":     "six",
	"digit-7":     "seven",
	"digit-8":     "eight",
	"digit-9":     "nine",
}

// genericPrompt is played for text that matches no shipped prompt.
const genericPrompt = "problem"

// Fallback speaks only the prompts shipped in the binary (English): an exact
// match (ignoring case and punctuation), a string of digits spoken digit by
// digit, the closest prompt when most of its words match, and otherwise the
// generic "Sorry, there was a problem." with a warning. voice and language
// are ignored.
type Fallback struct {
	logger  *slog.Logger
	prompts map[string][]int16 // by normalised text
	words   map[string][]string
}

// NewFallback loads the shipped prompts.
func NewFallback(logger *slog.Logger) *Fallback {
	if logger == nil {
		logger = slog.Default()
	}
	f := &Fallback{logger: logger, prompts: map[string][]int16{}, words: map[string][]string{}}
	for name, text := range fallbackTexts {
		b, err := fallbackFS.ReadFile("fallback/" + name + ".wav")
		if err != nil {
			panic(fmt.Sprintf("tts: shipped prompt %s missing: %v", name, err)) // build defect
		}
		pcm, err := wav.Read(bytes.NewReader(b))
		if err != nil {
			panic(fmt.Sprintf("tts: shipped prompt %s: %v", name, err)) // build defect
		}
		n := normalise(text)
		f.prompts[n] = pcm
		f.words[n] = strings.Fields(n)
	}
	return f
}

// Texts lists the texts the shipped prompts say.
func (f *Fallback) Texts() []string {
	out := make([]string, 0, len(fallbackTexts))
	for _, t := range fallbackTexts {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Synthesize implements Synthesizer.
func (f *Fallback) Synthesize(_ context.Context, text, _, _ string) ([]int16, error) {
	n := normalise(text)
	if n == "" {
		return nil, ErrEmptyText
	}
	if pcm, ok := f.prompts[n]; ok {
		return pcm, nil
	}
	if pcm, ok := f.digits(n); ok {
		return pcm, nil
	}
	best, score := "", 0.0
	tw := strings.Fields(n)
	for p, pw := range f.words {
		if s := overlap(tw, pw); s > score || (s == score && p < best) {
			best, score = p, s
		}
	}
	if score >= 0.6 {
		f.logger.Warn("tts: no synthesiser; playing the closest shipped prompt", "text_chars", len(text), "prompt", fallbackTexts[nameOf(best)])
		return f.prompts[best], nil
	}
	f.logger.Warn("tts: no synthesiser and no shipped prompt for this text; playing the generic prompt (install espeak-ng)",
		"text_chars", len(text), "prompt", fallbackTexts[genericPrompt]) // a prompt may read back a secret
	return f.prompts[normalise(fallbackTexts[genericPrompt])], nil
}

// digits speaks text made only of digits and spaces, digit by digit, with
// 150 ms between them.
func (f *Fallback) digits(n string) ([]int16, bool) {
	var out []int16
	gap := make([]int16, Rate*150/1000)
	for _, r := range n {
		switch {
		case r == ' ':
		case r >= '0' && r <= '9':
			if len(out) > 0 {
				out = append(out, gap...)
			}
			out = append(out, f.prompts[fallbackTexts["digit-"+string(r)]]...)
		default:
			return nil, false
		}
	}
	return out, len(out) > 0
}

func nameOf(normalised string) string {
	for name, t := range fallbackTexts {
		if normalise(t) == normalised {
			return name
		}
	}
	return genericPrompt
}

// normalise lower-cases text and keeps letters, digits and single spaces.
func normalise(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'':
			// "didn't" -> "didnt"
		default:
			space = true
		}
	}
	return b.String()
}

// overlap is the share of the prompt's words found in the text, discounted
// when the text is much longer than the prompt.
func overlap(text, prompt []string) float64 {
	if len(prompt) == 0 || len(text) == 0 {
		return 0
	}
	hit := 0
	for _, w := range prompt {
		if slices.Contains(text, w) {
			hit++
		}
	}
	return float64(hit) / float64(max(len(prompt), len(text)))
}
