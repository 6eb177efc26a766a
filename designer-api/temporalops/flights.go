package temporalops

import (
	"context"
	"sync"
	"time"
)

// flightTimeout bounds one shared call: it runs on no single caller's context.
const flightTimeout = 30 * time.Second

// flights runs fn for a key once at a time. Callers that arrive while it runs
// wait for the next run and share it, so every caller gets a result read after
// it arrived, as if it had made its own call, but n callers at once cost two
// calls instead of n. The calls list is polled this way: by dashboards, by
// the designer's heat map and `voxflow calls list`, and a list of 100 calls
// costs the embedded Temporal server ~5 ms of CPU.
type flights[K comparable, V any] struct {
	mu sync.Mutex
	// queued holds, per key with a run in progress, the run its newcomers
	// wait for (nil while none is waiting).
	queued map[K]*flight[V]
	// running says which keys have a run in progress.
	running map[K]bool
}

type flight[V any] struct {
	done chan struct{}
	val  V
	err  error
	// callers counts the callers sharing this run.
	callers int
}

// do returns fn's result from a run that started after do was called. fn runs
// on ctx's values without its cancellation (other callers may share the run);
// do itself returns ctx.Err() once ctx ends.
func (g *flights[K, V]) do(ctx context.Context, key K, fn func(context.Context) (V, error)) (V, error) {
	g.mu.Lock()
	if g.running == nil {
		g.running, g.queued = make(map[K]bool), make(map[K]*flight[V])
	}
	f := g.queued[key]
	if f == nil {
		f = &flight[V]{done: make(chan struct{})}
		if g.running[key] {
			g.queued[key] = f
		} else {
			g.running[key] = true
			go g.run(context.WithoutCancel(ctx), key, f, fn)
		}
	}
	f.callers++
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// run runs f, then the run queued behind it, until none is queued.
func (g *flights[K, V]) run(ctx context.Context, key K, f *flight[V], fn func(context.Context) (V, error)) {
	for f != nil {
		fctx, cancel := context.WithTimeout(ctx, flightTimeout)
		f.val, f.err = fn(fctx)
		cancel()
		close(f.done)
		g.mu.Lock()
		f = g.queued[key]
		delete(g.queued, key)
		if f == nil {
			delete(g.running, key)
		}
		g.mu.Unlock()
	}
}
