package sipworker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/wav"
)

// promptCache renders prompts to 8 kHz PCM: text through the synthesizer
// (which caches by itself), audio files converted once and kept.
type promptCache struct {
	tts Synthesizer
	dir string
	wav *wav.Cache
}

// promptCacheBytes bounds the converted audio files held in memory.
const promptCacheBytes = 64 << 20

func newPromptCache(tts Synthesizer, dir string) *promptCache {
	return &promptCache{tts: tts, dir: dir, wav: wav.NewCache(promptCacheBytes)}
}

// render returns the prompt's audio. An audio file wins over text; text
// without a synthesizer is an error.
func (p *promptCache) render(ctx context.Context, pr activities.Prompt) ([]int16, error) {
	if pr.Audio != "" {
		path := strings.TrimPrefix(pr.Audio, "file://")
		if !filepath.IsAbs(path) && p.dir != "" {
			path = filepath.Join(p.dir, path)
		}
		pcm, err := p.wav.Load(path)
		if err != nil {
			return nil, fmt.Errorf("audio prompt %s: %w", pr.Audio, err)
		}
		return pcm, nil
	}
	if strings.TrimSpace(pr.Text) == "" {
		return nil, nil
	}
	if p.tts == nil {
		return nil, errors.New("text prompt but no TTS configured")
	}
	pcm, err := p.tts.Synthesize(ctx, pr.Text, pr.Voice, pr.Language)
	if err != nil {
		return nil, fmt.Errorf("synthesize %q: %w", pr.Text, err)
	}
	return pcm, nil
}
