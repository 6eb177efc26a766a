package routingload

import (
	"context"
	"testing"
	"time"
)

// TestHarness runs both benchmarks' procedures at a small size (30 calls,
// 6 agents): every agent made available gets exactly one offer, wrap-ups
// are saved, joins land, and the history figures add up. About 5 s.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := newRig(t)
	const agents, waiting = 6, 30
	if err := r.signInOnBreak(ctx, agents, 4); err != nil {
		t.Fatal(err)
	}
	if err := parallel(waiting, 4, func(int) error { return r.startAndJoin(ctx) }); err != nil {
		t.Fatal(err)
	}
	if err := r.awaitWaiting(ctx, waiting, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	m0, err := r.mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := newAssigner(r, agents)
	// One at a time, then bursts of 3 that reuse every agent (each after
	// its wrap-up was saved).
	for _, k := range []int{1, 1, 3, 3, 3} {
		got, err := a.round(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if s.fromRequest <= 0 || s.fromRequest < s.fromReturn {
				t.Errorf("sample %+v", s)
			}
		}
	}
	if s := r.offers.strays(); len(s) > 0 {
		t.Fatalf("stray offers: %+v", s)
	}
	if err := r.awaitWaiting(ctx, waiting, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	h, err := r.since(ctx, m0)
	if err != nil {
		t.Fatal(err)
	}
	if h.events == 0 || h.wft == 0 || h.runs != 1 {
		t.Errorf("history since the mark: %+v", h)
	}
	t.Logf("11 assignments: %d events, %d workflow tasks;%s", h.events, h.wft, h.breakdown())

	// Joins, then they leave (as BenchmarkEnqueue's sub-benchmarks).
	m1, err := r.mark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := parallel(20, 4, func(i int) error { return r.join(ctx, "extra-"+agentName(i), i) }); err != nil {
		t.Fatal(err)
	}
	if err := r.awaitWaiting(ctx, waiting+20, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if h, err := r.since(ctx, m1); err != nil || h.events < 20 {
		t.Errorf("history after 20 joins: %+v, %v", h, err)
	}
	var extra []string
	for i := range 20 {
		extra = append(extra, "extra-"+agentName(i))
	}
	if resent, err := leave(ctx, r, extra, waiting); err != nil || resent != 0 {
		t.Errorf("leave: resent %d, %v", resent, err)
	}
}
