package routingload

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// BenchmarkEnqueue measures joins (platform.Router.Join, the update the
// routing.Join activity sends) into a router that already holds 1,000
// waiting calls and 200 agents on break, so that nobody is offered.
//
// Setup (once, independent of b.N: about 2 s on 2 shared cores): 200
// agents sign in and go on break; 1,000 calls join three queues (8 at a
// time; no call workflow runs: nothing is offered, so the router never
// signals them). After each sub-benchmark the calls it joined leave
// (routing.event QueueLeft, not measured), so each starts at 1,000.
//
//   - joiners-8, joiners-32: b.N joins, that many joiners at a time, each
//     joining its next call as soon as the last one returned.
//
// Metrics: joins/s; p50-ms/p99-ms: a join's round trip (update-with-start,
// waiting for the update's result); events/join, wft/join, wft-ms/join:
// the router's history events, workflow tasks and time inside them (task
// started -> completed events) per join; continued: continue-as-new during
// the sub-benchmark (the router continues at 4,000 events, carrying its
// whole State); carry-kb: the input of the last new run (the carried
// State); replays: full replays of the router by the worker (not new
// runs); cpu-ms/join: CPU of the whole process (server included);
// retried: joins sent again after the server failed them (retryUpdate;
// the join's latency counts from its first attempt); resent: left events
// sent again after the router lost them (leave).
// VOXFLOW_ROUTING_PROFILE_DIR: as BenchmarkAssignmentLatency.
//
//	go test -c -o /tmp/routingload.test ./bench/routingload
//	cd bench/routingload && /tmp/routingload.test -test.run XXX -test.bench Enqueue -test.benchtime 1000x
func BenchmarkEnqueue(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := newRig(b)
	t0 := time.Now()
	if err := r.signInOnBreak(ctx, benchAgents, setupConc); err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	if err := parallel(benchWaiting, setupConc, func(i int) error { return r.join(ctx, fmt.Sprintf("held-%06d", i), i) }); err != nil {
		b.Fatal(err)
	}
	if err := r.awaitWaiting(ctx, benchWaiting, 30*time.Second); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d agents signed in and on break in %.1f s; %d calls joined in %.1f s",
		benchAgents, t1.Sub(t0).Seconds(), benchWaiting, time.Since(t1).Seconds())
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("joiners-%d", conc), func(b *testing.B) { benchJoins(ctx, b, r, conc, benchWaiting) })
	}
}

// benchJoins joins b.N calls, conc at a time, then makes them leave so
// that base calls wait again.
func benchJoins(ctx context.Context, b *testing.B, r *rig, conc, base int) {
	m0, err := r.mark(ctx)
	if err != nil {
		b.Fatal(err)
	}
	calls := make([]string, b.N)
	for i := range calls {
		calls[i] = fmt.Sprintf("join-c%d-n%d-%06d", conc, b.N, i)
	}
	lat := make([]time.Duration, b.N)
	stop := startProfile(b)
	retried0 := r.retried.Load()
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	err = parallel(b.N, conc, func(i int) error {
		t := time.Now()
		err := r.join(ctx, calls[i], i)
		lat[i] = time.Since(t)
		return err
	})
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	stop()
	if err != nil {
		b.Fatal(err)
	}
	h, err := r.since(ctx, m0)
	if err != nil {
		b.Fatal(err)
	}
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "joins/s")
	b.ReportMetric(pctMS(lat, 0.50), "p50-ms")
	b.ReportMetric(pctMS(lat, 0.99), "p99-ms")
	b.ReportMetric(float64(h.events)/n, "events/join")
	b.ReportMetric(float64(h.wft)/n, "wft/join")
	b.ReportMetric(ms(h.wftTime)/n, "wft-ms/join")
	b.ReportMetric(float64(h.continued()), "continued")
	b.ReportMetric(float64(h.replays), "replays")
	b.ReportMetric(h.carryKB, "carry-kb")
	b.ReportMetric(ms(cpu)/n, "cpu-ms/join")
	b.ReportMetric(float64(r.retried.Load()-retried0), "retried")
	b.Logf("%d joins in %.2f s; router history: %d events in %d run(s), %d workflow tasks (%.1f ms in them, longest %.1f ms);%s",
		b.N, elapsed.Seconds(), h.events, h.runs, h.wft, ms(h.wftTime), ms(h.wftMax), h.breakdown())
	b.Logf("longest workflow tasks: %s", h.slowest())

	// Not measured: the calls leave, so the next sub-benchmark starts
	// with base calls waiting.
	resent, err := leave(ctx, r, calls, base)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(resent), "resent")
}

// leave makes calls leave their queue (routing.event QueueLeft) and waits
// until base calls wait. A left event the router lost (one that arrived in
// the workflow task in which it continued as new: bench/README.md) is sent
// again; resent counts those. The board alone cannot tell: a query can
// still be answered by the run that lost the event, whose memory applied
// it after its State had gone to the next run; so every call is looked up
// (routing.position) once the board shows base.
func leave(ctx context.Context, r *rig, calls []string, base int) (resent int, err error) {
	send := func(call string) error {
		return r.c.SignalWorkflow(ctx, activities.RouterWorkflowID, "", activities.SignalQueueEvent,
			activities.QueueEvent{Kind: activities.QueueLeft, Call: call, Token: "queue/1", Reason: "left"})
	}
	pending := calls
	for range 3 {
		if err := parallel(len(pending), setupConc, func(i int) error { return send(pending[i]) }); err != nil {
			return resent, err
		}
		if err := r.awaitWaiting(ctx, base, 10*time.Second); err != nil && len(pending) < len(calls) {
			return resent, err
		}
		var still []string
		for _, call := range calls {
			p, err := r.router.Position(ctx, call)
			if err != nil {
				return resent, err
			}
			if p.Found {
				still = append(still, call)
			}
		}
		if len(still) == 0 {
			return resent, r.awaitWaiting(ctx, base, 10*time.Second)
		}
		resent += len(still)
		pending = still
	}
	return resent, fmt.Errorf("%d calls still wait after their left event was sent 3 times", len(pending))
}
