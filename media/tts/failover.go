package tts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Failover speaks with a primary synthesiser (a cloud voice) and, when it
// fails, with a local one, so a caller hears the prompt in another voice
// rather than silence. An outage is logged once when it starts (with the
// first error) and once when the primary answers again. Errors of the
// caller's own making (empty text, a cancelled call) are returned as they
// are, without trying the local synthesiser.
type Failover struct {
	primary, local Synthesizer
	logger         *slog.Logger

	mu       sync.Mutex
	down     bool
	failures int // during the current outage
}

// NewFailover returns primary backed by local; logger nil logs nothing.
func NewFailover(primary, local Synthesizer, logger *slog.Logger) *Failover {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Failover{primary: primary, local: local, logger: logger}
}

// Synthesize implements Synthesizer.
func (f *Failover) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	pcm, err := f.primary.Synthesize(ctx, text, voice, language)
	if err == nil {
		f.up()
		return pcm, nil
	}
	if errors.Is(err, ErrEmptyText) || ctx.Err() != nil {
		return nil, err
	}
	f.failed(err)
	pcm, lerr := f.local.Synthesize(ctx, text, voice, language)
	if lerr != nil && voice != "" && voice != "default" && ctx.Err() == nil {
		// The voice may be one only the primary knows.
		pcm, lerr = f.local.Synthesize(ctx, text, "", language)
	}
	if lerr != nil {
		return nil, fmt.Errorf("%w; and the local synthesiser: %w", err, lerr)
	}
	return pcm, nil
}

func (f *Failover) up() {
	f.mu.Lock()
	was, n := f.down, f.failures
	f.down, f.failures = false, 0
	f.mu.Unlock()
	if was {
		f.logger.Info("tts: the voice endpoint answers again", "prompts_spoken_locally", n)
	}
}

func (f *Failover) failed(err error) {
	f.mu.Lock()
	first := !f.down
	f.down = true
	f.failures++
	f.mu.Unlock()
	if first {
		f.logger.Warn("tts: the voice endpoint failed; prompts are spoken by the local synthesiser until it answers again", "err", err)
	}
}
