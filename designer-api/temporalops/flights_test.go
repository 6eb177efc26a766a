package temporalops

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gate is an fn for flights whose runs block until released; run n returns n
// (counting from 1) or the error set for it.
type gate struct {
	entered chan int
	release chan struct{}
	runs    atomic.Int32
	errs    map[int]error
}

func newGate() *gate {
	return &gate{entered: make(chan int, 16), release: make(chan struct{}), errs: map[int]error{}}
}

func (g *gate) fn(context.Context) (int, error) {
	n := int(g.runs.Add(1))
	g.entered <- n
	<-g.release
	return n, g.errs[n]
}

type result struct {
	val int
	err error
}

// call runs g.do in a goroutine and returns where its result arrives.
func call(ctx context.Context, fl *flights[string, int], key string, fn func(context.Context) (int, error)) <-chan result {
	ch := make(chan result, 1)
	go func() {
		v, err := fl.do(ctx, key, fn)
		ch <- result{v, err}
	}()
	return ch
}

// waitQueued waits until n callers wait for the run queued behind key's
// running one.
func waitQueued(t *testing.T, fl *flights[string, int], key string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		fl.mu.Lock()
		f := fl.queued[key]
		got := 0
		if f != nil {
			got = f.callers
		}
		fl.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers queued for %q, want %d", got, key, n)
		}
	}
}

func TestFlightsShareTheNextRun(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		errs     map[int]error
		late     int // callers arriving during run 1
		wantLate result
	}{
		{"one late caller", nil, 1, result{val: 2}},
		{"late callers share run 2", nil, 3, result{val: 2}},
		{"an error reaches every sharer", map[int]error{2: errBoom}, 3, result{val: 2, err: errBoom}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fl flights[string, int]
			g := newGate()
			if tc.errs != nil {
				g.errs = tc.errs
			}
			ctx := context.Background()
			first := call(ctx, &fl, "k", g.fn)
			if n := <-g.entered; n != 1 {
				t.Fatalf("first run is %d", n)
			}
			var late []<-chan result
			for range tc.late {
				late = append(late, call(ctx, &fl, "k", g.fn))
			}
			waitQueued(t, &fl, "k", tc.late)
			g.release <- struct{}{} // run 1 ends
			if r := <-first; r.val != 1 || r.err != nil {
				t.Fatalf("first caller got %+v, want run 1", r)
			}
			if n := <-g.entered; n != 2 {
				t.Fatalf("second run is %d", n)
			}
			g.release <- struct{}{} // run 2 ends
			for i, ch := range late {
				if r := <-ch; r.val != tc.wantLate.val || !errors.Is(r.err, tc.wantLate.err) {
					t.Errorf("late caller %d got %+v, want %+v", i, r, tc.wantLate)
				}
			}
			if runs := g.runs.Load(); runs != 2 {
				t.Errorf("%d runs for %d callers, want 2", runs, 1+tc.late)
			}
			// Nothing is left queued: the next caller starts a run of its own.
			next := call(ctx, &fl, "k", g.fn)
			<-g.entered
			g.release <- struct{}{}
			if r := <-next; r.val != 3 {
				t.Errorf("next caller got %+v, want run 3", r)
			}
		})
	}
}

func TestFlightsKeysRunApart(t *testing.T) {
	var fl flights[string, int]
	g := newGate()
	a := call(context.Background(), &fl, "a", g.fn)
	b := call(context.Background(), &fl, "b", g.fn)
	<-g.entered // both run at once: neither waits for the other
	<-g.entered
	g.release <- struct{}{}
	g.release <- struct{}{}
	ra, rb := <-a, <-b
	if ra.err != nil || rb.err != nil || ra.val == rb.val {
		t.Fatalf("a %+v, b %+v: want two runs", ra, rb)
	}
}

type ctxKey struct{}

func TestFlightsCallerCancel(t *testing.T) {
	var fl flights[string, int]
	g := newGate()
	var runCtx context.Context
	var mu sync.Mutex
	fn := func(ctx context.Context) (int, error) {
		mu.Lock()
		runCtx = ctx
		mu.Unlock()
		return g.fn(ctx)
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	starter := call(ctx, &fl, "k", fn)
	<-g.entered
	cancel()
	if r := <-starter; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled caller got %+v, want context.Canceled", r)
	}
	mu.Lock()
	rctx := runCtx
	mu.Unlock()
	if rctx.Err() != nil || rctx.Value(ctxKey{}) != "v" {
		t.Fatalf("the run's context: err %v, value %v; want live, with the caller's values", rctx.Err(), rctx.Value(ctxKey{}))
	}
	other := call(context.Background(), &fl, "k", g.fn)
	waitQueued(t, &fl, "k", 1)
	g.release <- struct{}{}
	<-g.entered
	g.release <- struct{}{}
	if r := <-other; r.val != 2 || r.err != nil {
		t.Fatalf("other caller got %+v, want run 2", r)
	}
}
