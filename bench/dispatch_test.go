// Package bench holds voxflow's load and performance harness.
package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
)

// BenchmarkDispatch measures Temporal dispatch latency on an in-process
// server (temporaltest, one history shard) with temporaltest's default
// dynamic config and with devtemporal.TunedDynamicConfig:
//
//   - workflow5: wall time of a workflow running 5 sequential activities on
//     another task queue (start -> result), as a call running 5 nodes.
//   - signal: a caller event (signal) -> the next media activity starting on
//     the call's media task queue, as a key press -> next prompt.
//   - throughput: workflow5 with 20 workflows in flight at a time; reports
//     calls/s (workflows completed per second) besides the percentiles.
//
// ns/op is the mean; p50-ms and p99-ms are per-iteration percentiles.
//
//	go test ./bench -run XXX -bench Dispatch -benchtime 20x
func BenchmarkDispatch(b *testing.B) {
	for _, cfg := range []struct {
		name   string
		values map[string]any
	}{
		{"default", nil},
		{"tuned", devtemporal.TunedDynamicConfig()},
	} {
		b.Run(cfg.name, func(b *testing.B) {
			_, c := devtemporaltest.NewServerWithDynamicConfig(b, cfg.values)
			h := newHarness(b, c)
			b.Run("workflow5", h.benchWorkflow5)
			b.Run("signal", h.benchSignal)
			b.Run("throughput", h.benchThroughput)
		})
	}
}

const (
	engineQueue = "bench-engine"
	mediaQueue  = "media-bench"
)

type harness struct {
	c       client.Client
	started chan time.Time
}

func newHarness(b *testing.B, c client.Client) *harness {
	h := &harness{c: c, started: make(chan time.Time, 1)}
	engine := worker.New(c, engineQueue, worker.Options{})
	engine.RegisterWorkflowWithOptions(fiveActivities, workflow.RegisterOptions{Name: "five"})
	engine.RegisterWorkflowWithOptions(turns, workflow.RegisterOptions{Name: "turns"})
	media := worker.New(c, mediaQueue, worker.Options{})
	media.RegisterActivityWithOptions(func(context.Context, int) (int, error) { return 0, nil },
		activity.RegisterOptions{Name: "noop"})
	media.RegisterActivityWithOptions(func(context.Context, int) error {
		h.started <- time.Now()
		return nil
	}, activity.RegisterOptions{Name: "collect"})
	for _, w := range []worker.Worker{engine, media} {
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Stop)
	}
	return h
}

func (h *harness) benchWorkflow5(b *testing.B) {
	ctx := context.Background()
	// One warm-up run so worker connections and task queues exist.
	if err := h.runFive(ctx, "warmup-"+b.Name()); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := h.runFive(ctx, fmt.Sprintf("five-%d-%d", b.N, i)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	report(b, lat)
}

const concurrency = 20

func (h *harness) benchThroughput(b *testing.B) {
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	errs := make(chan error, b.N)
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t0 := time.Now()
			if err := h.runFive(ctx, fmt.Sprintf("conc-%d-%d", b.N, i)); err != nil {
				errs <- err
				return
			}
			lat[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	report(b, lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
}

func (h *harness) runFive(ctx context.Context, id string) error {
	run, err := h.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: engineQueue}, "five")
	if err != nil {
		return err
	}
	return run.Get(ctx, nil)
}

func (h *harness) benchSignal(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, err := h.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: fmt.Sprintf("turns-%d", b.N), TaskQueue: engineQueue,
	}, "turns", b.N+1)
	if err != nil {
		b.Fatal(err)
	}
	turn := func(i int) time.Duration {
		t0 := time.Now()
		if err := h.c.SignalWorkflow(ctx, run.GetID(), "", "dtmf", i); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-h.started:
			return at.Sub(t0)
		case <-ctx.Done():
			b.Fatalf("turn %d: activity never started", i)
			return 0
		}
	}
	turn(-1) // warm-up
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		lat = append(lat, turn(i))
	}
	b.StopTimer()
	if err := run.Get(ctx, nil); err != nil {
		b.Fatal(err)
	}
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// fiveActivities is a call that runs five nodes, each an activity on the
// media queue.
func fiveActivities(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           mediaQueue,
		StartToCloseTimeout: 10 * time.Second,
	})
	for i := range 5 {
		if err := workflow.ExecuteActivity(ctx, "noop", i).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// turns runs one media activity per "dtmf" signal, like caller turns.
func turns(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           mediaQueue,
		StartToCloseTimeout: 10 * time.Second,
	})
	ch := workflow.GetSignalChannel(ctx, "dtmf")
	for range n {
		var digit int
		ch.Receive(ctx, &digit)
		if err := workflow.ExecuteActivity(ctx, "collect", digit).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}
