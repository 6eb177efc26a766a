package tts

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/voxflow/voxflow/media/wav"
)

// Cached memoises a Synthesizer by text, voice and language: in memory, least
// recently used first out once the PCM held exceeds maxBytes, and, when dir
// is set, as 8 kHz 16-bit mono WAV files there, so restarts and other
// workers sharing the directory skip synthesis. Concurrent requests for the
// same prompt synthesise it once. Errors are not cached. Returned slices are
// shared and must not be modified.
type Cached struct {
	next     Synthesizer
	maxBytes int64
	dir      string

	mu      sync.Mutex
	entries map[cacheKey]*entry
	lru     *list.List // of *entry, most recent first
	bytes   int64
}

type cacheKey struct{ text, voice, language string }

type entry struct {
	key  cacheKey
	elem *list.Element
	done chan struct{}
	pcm  []int16
	err  error
}

// NewCached wraps next. maxBytes bounds the in-memory cache (2 bytes a
// sample; 0 means no bound); dir, when not empty, is created if needed and
// holds the on-disk cache.
func NewCached(next Synthesizer, maxBytes int64, dir string) *Cached {
	return &Cached{next: next, maxBytes: maxBytes, dir: dir, entries: map[cacheKey]*entry{}, lru: list.New()}
}

// Len returns the number of prompts held in memory.
func (c *Cached) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Synthesize implements Synthesizer.
func (c *Cached) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	if voice == "default" {
		voice = ""
	}
	k := cacheKey{text, voice, language}
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("tts: waiting for %q: %w", text, ctx.Err())
		}
		if e.err != nil {
			// The leader failed (perhaps on its own context); try
			// again on ours.
			return c.Synthesize(ctx, text, voice, language)
		}
		return e.pcm, nil
	}
	e := &entry{key: k, done: make(chan struct{})}
	c.entries[k] = e
	c.mu.Unlock()

	e.pcm, e.err = c.load(ctx, k)

	c.mu.Lock()
	if e.err != nil {
		delete(c.entries, k)
	} else {
		e.elem = c.lru.PushFront(e)
		c.bytes += 2 * int64(len(e.pcm))
		for c.maxBytes > 0 && c.bytes > c.maxBytes && c.lru.Len() > 1 {
			old := c.lru.Remove(c.lru.Back()).(*entry)
			delete(c.entries, old.key)
			c.bytes -= 2 * int64(len(old.pcm))
		}
	}
	c.mu.Unlock()
	close(e.done)
	return e.pcm, e.err
}

func (c *Cached) load(ctx context.Context, k cacheKey) ([]int16, error) {
	var path string
	if c.dir != "" {
		sum := sha256.Sum256([]byte(k.text + "\x00" + k.voice + "\x00" + k.language))
		path = filepath.Join(c.dir, hex.EncodeToString(sum[:16])+".wav")
		pcm, err := wav.ReadFile(path)
		if err == nil {
			return pcm, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			// A damaged file is replaced below.
			_ = os.Remove(path)
		}
	}
	pcm, err := c.next.Synthesize(ctx, k.text, k.voice, k.language)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := writeAtomic(path, pcm); err != nil {
			return nil, err
		}
	}
	return pcm, nil
}

// writeAtomic writes a WAV through a temporary file and a rename, so readers
// never see a partial file.
func writeAtomic(path string, pcm []int16) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("tts cache: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tts-*.wav")
	if err != nil {
		return fmt.Errorf("tts cache: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := wav.Write(f, Rate, pcm); err != nil {
		f.Close()
		return fmt.Errorf("tts cache %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tts cache: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("tts cache: %w", err)
	}
	return nil
}
