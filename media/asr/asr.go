// Package asr recognises what a caller said, from 8 kHz mono 16-bit PCM:
// one of the phrases a menu expects (Recognizer), or free speech for
// intent and llm nodes (Transcriber).
//
// Pocketsphinx implements both offline with Debian's pocketsphinx (the
// default, no account or key): a menu's phrases become a grammar whose
// answer is accepted only when an open decode heard it too (out-of-grammar
// speech is no match), and free speech is decoded with a small language
// model built from the node's examples and slot types. OpenAI transcribes
// through an OpenAI-compatible audio/transcriptions endpoint. NewDefault
// picks pocketsphinx when it is installed and says at startup what it found.
package asr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Rate is the sample rate of the PCM recognisers take.
const Rate = 8000

// Result is what a recogniser made of an utterance.
type Result struct {
	// Phrase is the expected phrase recognised, exactly as it was given;
	// "" means no match (silence, noise, or nothing close enough).
	Phrase string
	// Text is the recogniser's raw transcript (lower case; may be empty).
	Text string
	// Confidence in [0, 1] that Phrase is what was said; 0 with no match.
	Confidence float64
}

// Matched reports whether an expected phrase was recognised.
func (r Result) Matched() bool { return r.Phrase != "" }

// Recognizer recognises one utterance: pcm is 8 kHz mono 16-bit audio
// holding the caller's speech (a little silence around it is fine),
// phrases are the expected phrases (matched case-insensitively) and
// language a BCP 47 tag such as "en-US" ("" for the implementation's
// default). A result with no match is not an error; errors mean the
// recogniser could not do its job (unsupported language, no usable
// phrase, the engine failed or ran out of time). Implementations must be
// safe for concurrent use and stop when ctx ends.
type Recognizer interface {
	Recognize(ctx context.Context, pcm []int16, phrases []string, language string) (Result, error)
}

// Errors shared by recognisers.
var (
	// ErrNoPhrases: nothing to listen for.
	ErrNoPhrases = errors.New("asr: no phrases to recognise")
	// ErrUnsupportedLanguage: the recogniser has no model for the language.
	ErrUnsupportedLanguage = errors.New("asr: unsupported language")
)

// UnknownWordsError says that no phrase could be listened for because
// every one holds a word the recogniser's dictionary does not know.
type UnknownWordsError struct {
	Words   []string // the unknown words, lower case
	Phrases []string // the phrases dropped because of them
}

func (e *UnknownWordsError) Error() string {
	return fmt.Sprintf("asr: no phrase can be recognised: unknown words %q in phrases %q (use dictionary words, or spell numbers out)", e.Words, e.Phrases)
}

// Words splits a phrase into the lower-case words a recogniser listens
// for: letters, digits and inner apostrophes ("don't") make words; any
// other character separates them.
func Words(phrase string) []string {
	var words []string
	for _, f := range strings.FieldsFunc(strings.ToLower(phrase), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		if f = strings.Trim(f, "'"); f != "" {
			words = append(words, f)
		}
	}
	return words
}

// Normalize returns a phrase's words joined by single spaces; two
// phrases that normalise alike are the same phrase.
func Normalize(phrase string) string { return strings.Join(Words(phrase), " ") }

// MatchText maps a transcript onto the expected phrases: the phrase equal
// to it (after normalisation), else the longest phrase it contains as
// whole words; "" when none does.
func MatchText(text string, phrases []string) string {
	t := Normalize(text)
	if t == "" {
		return ""
	}
	best, bestLen := "", 0
	for _, p := range phrases {
		n := Normalize(p)
		if n == "" {
			continue
		}
		if n == t {
			return p
		}
		if strings.Contains(" "+t+" ", " "+n+" ") && len(n) > bestLen {
			best, bestLen = p, len(n)
		}
	}
	return best
}

// Hints bias free-speech recognition towards what a node expects: example
// phrases of its intents and the slot types it asks for (activities'
// SlotDigits, SlotNumber, SlotDate, ...).
type Hints struct {
	Phrases []string
	Slots   []string
}

// Transcript is what a transcriber heard.
type Transcript struct {
	// Text is the transcript, lower case for offline recognisers; "" when
	// nothing intelligible was said.
	Text string
	// Confidence in [0, 1]; 1 when the recogniser gives none.
	Confidence float64
}

// Transcriber turns free speech (8 kHz mono 16-bit PCM) into text, for
// intent and llm nodes. Implementations must be safe for concurrent use
// and stop when ctx ends; silence or noise is an empty Transcript, not an
// error.
type Transcriber interface {
	Transcribe(ctx context.Context, pcm []int16, hints Hints, language string) (Transcript, error)
}
