package sipworker

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

// promptCache renders prompts to 8 kHz PCM: text through the synthesizer
// (which caches by itself), audio files converted once and kept. The PCM
// it hands out is also encoded for the wire once per codec, on first play,
// and those frames are shared by every call that plays it (wireFrames).
type promptCache struct {
	tts  Synthesizer
	dir  string
	wav  *wav.Cache
	wire *wireFrames

	musicOnce sync.Once
	music     []int16
}

// promptCacheBytes bounds the converted audio files held in memory;
// wireCacheBytes the prompts held for wireFrames (PCM and frames).
const (
	promptCacheBytes = 64 << 20
	wireCacheBytes   = 32 << 20
)

func newPromptCache(tts Synthesizer, dir string) *promptCache {
	return &promptCache{tts: tts, dir: dir, wav: wav.NewCache(promptCacheBytes), wire: newWireFrames(wireCacheBytes)}
}

// frames returns pcm encoded for c in whole frames, shared with every
// other call playing it; false when pcm is not a prompt render returned
// (recently enough to be held) or c cannot share frames (Opus).
func (p *promptCache) frames(pcm []int16, c wireCodec) ([]byte, bool) {
	if p == nil || c.encodeAll == nil {
		return nil, false
	}
	return p.wire.frames(pcm, c)
}

// render returns the prompt's audio. An audio file wins over text; text
// without a synthesizer is an error.
func (p *promptCache) render(ctx context.Context, pr activities.Prompt) ([]int16, error) {
	if pr.Audio == audio.HoldMusicRef {
		return p.holdMusic(), nil
	}
	if pr.Audio != "" {
		path := strings.TrimPrefix(pr.Audio, "file://")
		if !filepath.IsAbs(path) && p.dir != "" {
			path = filepath.Join(p.dir, path)
		}
		pcm, err := p.wav.Load(path)
		if err != nil {
			return nil, fmt.Errorf("audio prompt %s: %w", pr.Audio, err)
		}
		p.wire.remember(pcm)
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
	p.wire.remember(pcm)
	return pcm, nil
}

// holdMusic renders the built-in hold music once; every call shares it.
func (p *promptCache) holdMusic() []int16 {
	p.musicOnce.Do(func() {
		p.music = audio.HoldMusic(holdMusicSeconds)
	})
	p.wire.remember(p.music)
	return p.music
}

// holdMusicSeconds is one play of the built-in hold music: a hold flow's
// cycle plays it, then the caller's position.
const holdMusicSeconds = 24

// wireFrames holds prompts encoded for the wire. Encoding per call cost
// each playing call an encoder pass and a frame buffer; a prompt is
// encoded once per codec instead, on its first play, and every call
// sends slices of the same frames.
//
// A prompt is known by its PCM slice: the wav and TTS caches hand out the
// same shared, read-only slice for the same prompt. An entry holds that
// slice, so its array cannot be freed and reused for other audio while
// the entry exists: a slice with the same first element and length is the
// same prompt. Only PCM that render returned is held (remember), so a
// one-off sound (a record beep) is encoded by its call as before. Least
// recently used entries go once the PCM and frames held pass maxBytes.
type wireFrames struct {
	maxBytes int64

	mu      sync.Mutex
	entries map[pcmKey]*wireEntry
	lru     *list.List // of *wireEntry, most recent first
	bytes   int64
}

type pcmKey struct {
	first *int16
	n     int
}

type wireEntry struct {
	key    pcmKey
	pcm    []int16
	frames map[string][]byte // by codec name
	elem   *list.Element
}

func newWireFrames(maxBytes int64) *wireFrames {
	return &wireFrames{maxBytes: maxBytes, entries: map[pcmKey]*wireEntry{}, lru: list.New()}
}

func keyOf(pcm []int16) pcmKey { return pcmKey{&pcm[0], len(pcm)} }

// remember marks pcm as a prompt whose frames may be shared.
func (c *wireFrames) remember(pcm []int16) {
	if len(pcm) == 0 || 2*int64(len(pcm)) > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[keyOf(pcm)]; e != nil {
		c.lru.MoveToFront(e.elem)
		return
	}
	e := &wireEntry{key: keyOf(pcm), pcm: pcm, frames: map[string][]byte{}}
	e.elem = c.lru.PushFront(e)
	c.entries[e.key] = e
	c.grow(2 * int64(len(pcm)))
}

// frames returns pcm's frames for codec, encoding them on first use.
func (c *wireFrames) frames(pcm []int16, codec wireCodec) ([]byte, bool) {
	if len(pcm) == 0 {
		return nil, false
	}
	c.mu.Lock()
	e := c.entries[keyOf(pcm)]
	var fr []byte
	if e != nil {
		fr = e.frames[codec.name]
	}
	c.mu.Unlock()
	if e == nil {
		return nil, false
	}
	if fr != nil {
		return fr, true
	}
	// Encoded outside the lock: a long prompt takes a moment, and two
	// calls starting it together at worst encode it twice.
	fr = codec.encodeAll(pcm)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[e.key] == e && e.frames[codec.name] == nil {
		e.frames[codec.name] = fr
		c.grow(int64(len(fr)))
	}
	return fr, true
}

// grow accounts for n more bytes held and drops the least recently used
// entries beyond maxBytes (the newest is always kept).
func (c *wireFrames) grow(n int64) {
	c.bytes += n
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		old := c.lru.Back().Value.(*wireEntry)
		c.lru.Remove(old.elem)
		delete(c.entries, old.key)
		c.bytes -= 2 * int64(len(old.pcm))
		for _, f := range old.frames {
			c.bytes -= int64(len(f))
		}
	}
}
