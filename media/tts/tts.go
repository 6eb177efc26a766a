// Package tts turns prompt text into 8 kHz mono 16-bit PCM.
//
// Synthesizer is the seam: Espeak shells out to espeak-ng (the default),
// Cached memoises any Synthesizer by text, voice and language (in memory and
// optionally as WAV files on disk), and Fallback plays WAVs shipped in the
// binary when no synthesiser is installed. NewDefault picks between them and
// says which at startup. Cloud voices implement Synthesizer too.
package tts

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
)

// Rate is the sample rate of all PCM this package returns.
const Rate = 8000

// Synthesizer renders text as 8 kHz mono 16-bit PCM. voice names a voice of
// the implementation, or is "" or "default" for the language's default
// voice; language is a BCP 47 tag such as "en-US" ("" for the
// implementation's default). Implementations must be safe for concurrent
// use. The returned slice may be shared (cached) and must not be modified.
type Synthesizer interface {
	Synthesize(ctx context.Context, text, voice, language string) ([]int16, error)
}

// ErrEmptyText is returned for text with nothing to say.
var ErrEmptyText = errors.New("tts: empty text")

// DefaultCacheBytes bounds the in-memory cache NewDefault sets up.
const DefaultCacheBytes = 64 << 20

// NewDefault returns espeak-ng (cached in memory) when espeak-ng is on PATH,
// and otherwise the shipped fallback prompts, logging which one is used.
func NewDefault(logger *slog.Logger) Synthesizer {
	if logger == nil {
		logger = slog.Default()
	}
	if path, err := exec.LookPath(EspeakCommand); err == nil {
		e := NewEspeak(path)
		logger.Info("tts: text prompts are rendered by espeak-ng", "path", path, "version", e.Version(context.Background()))
		return NewCached(e, DefaultCacheBytes, "")
	}
	fb := NewFallback(logger)
	logger.Warn("tts: espeak-ng not found on PATH; text prompts fall back to shipped recordings (install the espeak-ng package to speak any text)",
		"prompts", fb.Texts())
	return fb
}
