package wav

import (
	"container/list"
	"fmt"
	"os"
	"sync"
	"time"
)

// Cache converts WAV files to 8 kHz mono PCM once and keeps the result,
// keyed by path, modification time and size: a file replaced on disk is
// converted again on its next Load. Loads of the same file in parallel
// convert it once. When maxBytes is positive, the least recently used
// entries are dropped to keep the held PCM under it. Safe for concurrent
// use.
type Cache struct {
	maxBytes int64

	mu      sync.Mutex
	entries map[string]*cacheEntry // by path
	lru     *list.List             // of *cacheEntry, most recent at front
	bytes   int64
}

type cacheEntry struct {
	path  string
	mtime time.Time
	size  int64
	elem  *list.Element

	done chan struct{} // closed when pcm/err are set
	pcm  []int16
	err  error
}

// NewCache returns a Cache holding at most maxBytes of PCM (2 bytes a
// sample); 0 means no bound.
func NewCache(maxBytes int64) *Cache {
	return &Cache{maxBytes: maxBytes, entries: map[string]*cacheEntry{}, lru: list.New()}
}

// Load returns the file's audio as mono 16-bit PCM at 8000 Hz. The returned
// slice is shared with other callers and must not be modified.
func (c *Cache) Load(path string) ([]int16, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("wav cache: %w", err)
	}
	c.mu.Lock()
	e := c.entries[path]
	if e != nil && e.mtime.Equal(st.ModTime()) && e.size == st.Size() {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		<-e.done
		return e.pcm, e.err
	}
	if e != nil {
		c.removeLocked(e)
	}
	e = &cacheEntry{path: path, mtime: st.ModTime(), size: st.Size(), done: make(chan struct{})}
	c.entries[path] = e
	c.mu.Unlock()

	e.pcm, e.err = ReadFile(path)
	close(e.done)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[path] != e { // replaced while converting
		return e.pcm, e.err
	}
	if e.err != nil {
		// Do not keep failures: the file may be fixed without its
		// mtime changing (or a read may have failed transiently).
		delete(c.entries, path)
		return nil, e.err
	}
	e.elem = c.lru.PushFront(e)
	c.bytes += 2 * int64(len(e.pcm))
	for c.maxBytes > 0 && c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.removeLocked(c.lru.Back().Value.(*cacheEntry))
	}
	return e.pcm, nil
}

// Len returns the number of files held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *Cache) removeLocked(e *cacheEntry) {
	if c.entries[e.path] == e {
		delete(c.entries, e.path)
	}
	if e.elem != nil {
		c.lru.Remove(e.elem)
		c.bytes -= 2 * int64(len(e.pcm))
		e.elem = nil
	}
}
