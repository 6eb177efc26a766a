package routingload

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

const (
	// benchWaiting and benchAgents are the router's load while an
	// assignment is measured: waiting calls (kept at this number: each
	// offered call is replaced by a new one) and agents signed in.
	benchWaiting = 1000
	benchAgents  = 200
	// setupConc is how many setup requests run at once.
	setupConc = 8
)

// BenchmarkAssignmentLatency measures how long a waiting call waits for
// its offer once an agent becomes available, with 1,000 calls waiting and
// 200 agents signed in (on break but for those measured).
//
// Setup (once, not counted in any figure and independent of b.N: about
// 6 s on 2 shared cores): 200 agents sign in (available, with skills
// for every queue) and go on break; 1,000 FakeCalls start and join three
// queues through platform.Router.Join (no overflow, ring timeout 20 s,
// wrap-up 2 s); the board must then show 1,000 waiting.
//
// An op is one assignment: an agent on break is made available
// (platform.Router.SetAgent); the router offers it the longest-waiting
// call, whose FakeCall stamps the moment it sees the offer. Not measured
// (but inside ns/op): once every offer of the round arrived, the agents
// are put back on break (pending while reserved), the calls hang up and
// report answered, then ended (routing.event signals), the agents wrap
// up for 2 s and stay on break, and new FakeCalls join in place of those
// offered, so 1,000 calls wait at every measurement. An agent is reused
// only after its last call's wrap-up was saved (routing.SaveWrapUp).
//
//   - one: one agent at a time.
//   - burst-10, burst-50: that many agents made available at once (one
//     SetAgent each, concurrently); every agent's offer is one sample.
//
// Metrics: p50-ms/p99-ms: SetAgent returned -> the call's workflow code
// saw the offer; req-p50-ms/req-p99-ms: the same from the moment SetAgent
// was called; set-p50-ms/set-p99-ms: SetAgent's round trip. events/call,
// wft/call, wft-ms/call: the router's history events, workflow tasks and
// time inside them (task started -> completed events) per assignment,
// whole cycle (available, offer, answered, ended, break, wrap-up end and
// save, the replacement's join); continued: continue-as-new during the
// sub-benchmark; replays: full replays of the router by the worker (not
// new runs); cpu-ms/call: CPU of the whole process (server included);
// resent: ended events the benchmark sent again because the router lost
// the call's own (awaitWrapped); retried: updates sent again after the
// server failed them (retryUpdate; a retried SetAgent's sample counts
// from its first attempt). ns/op is the whole cycle, replacement
// join included: ignore it.
//
// VOXFLOW_ROUTING_PROFILE_DIR=dir writes a CPU profile of each
// sub-benchmark's measured loop (no setup) to dir/<sub-benchmark>.cpu.pprof;
// VOXFLOW_ROUTING_MAX_INFLIGHT_UPDATES=n sets the server's
// history.maxInFlightUpdates (10 by default: a burst of 50 then waits for
// the SDK's backoff, and 200x of burst-50 takes 2-4 minutes).
//
//	go test -c -o /tmp/routingload.test ./bench/routingload
//	cd bench/routingload
//	/tmp/routingload.test -test.run XXX -test.bench 'AssignmentLatency/(one|burst-10)$' -test.benchtime 200x
//	/tmp/routingload.test -test.run XXX -test.bench 'AssignmentLatency/burst-50' -test.benchtime 100x
func BenchmarkAssignmentLatency(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := newRig(b)
	t0 := time.Now()
	if err := r.signInOnBreak(ctx, benchAgents, setupConc); err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	if err := parallel(benchWaiting, setupConc, func(int) error { return r.startAndJoin(ctx) }); err != nil {
		b.Fatal(err)
	}
	if err := r.awaitWaiting(ctx, benchWaiting, 30*time.Second); err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d agents signed in and on break in %.1f s; %d calls started and joined in %.1f s",
		benchAgents, t1.Sub(t0).Seconds(), benchWaiting, time.Since(t1).Seconds())
	a := newAssigner(r, benchAgents)
	for _, burst := range []int{1, 10, 50} {
		name := "one"
		if burst > 1 {
			name = fmt.Sprintf("burst-%d", burst)
		}
		b.Run(name, func(b *testing.B) { a.bench(ctx, b, burst) })
	}
}

// assigner makes agents available one burst at a time, round robin over
// the agents.
type assigner struct {
	r      *rig
	agents int
	next   int
	// lastCall is each agent's last call (its CallID), whose wrap-up must
	// be saved before the agent is made available again.
	lastCall map[string]string
	// resent counts ended events the benchmark sent again: the router
	// lost the call's own (see awaitWrapped).
	resent int
}

func newAssigner(r *rig, agents int) *assigner {
	return &assigner{r: r, agents: agents, lastCall: map[string]string{}}
}

// sample is one assignment.
type sample struct {
	set, fromReturn, fromRequest time.Duration
}

func (a *assigner) bench(ctx context.Context, b *testing.B, burst int) {
	m0, err := a.r.mark(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var samples []sample
	resent0, retried0 := a.resent, a.r.retried.Load()
	stop := startProfile(b)
	cpu0 := cpuTime()
	b.ResetTimer()
	for done := 0; done < b.N; {
		k := min(burst, b.N-done)
		got, err := a.round(ctx, k)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, got...)
		done += k
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	stop()
	if s := a.r.offers.strays(); len(s) > 0 {
		b.Fatalf("%d offers to agents not made available by the benchmark, first %+v", len(s), s[0])
	}
	h, err := a.r.since(ctx, m0)
	if err != nil {
		b.Fatal(err)
	}
	var set, ret, req []time.Duration
	for _, s := range samples {
		set, ret, req = append(set, s.set), append(ret, s.fromReturn), append(req, s.fromRequest)
	}
	n := float64(len(samples))
	b.ReportMetric(pctMS(ret, 0.50), "p50-ms")
	b.ReportMetric(pctMS(ret, 0.99), "p99-ms")
	b.ReportMetric(pctMS(req, 0.50), "req-p50-ms")
	b.ReportMetric(pctMS(req, 0.99), "req-p99-ms")
	b.ReportMetric(pctMS(set, 0.50), "set-p50-ms")
	b.ReportMetric(pctMS(set, 0.99), "set-p99-ms")
	b.ReportMetric(float64(h.events)/n, "events/call")
	b.ReportMetric(float64(h.wft)/n, "wft/call")
	b.ReportMetric(ms(h.wftTime)/n, "wft-ms/call")
	b.ReportMetric(float64(h.continued()), "continued")
	b.ReportMetric(float64(h.replays), "replays")
	b.ReportMetric(ms(cpu)/n, "cpu-ms/call")
	b.ReportMetric(float64(a.resent-resent0), "resent")
	b.ReportMetric(float64(a.r.retried.Load()-retried0), "retried")
	b.Logf("%d assignments; router history: %d events in %d run(s), %d workflow tasks (%.1f ms in them, longest %.1f ms), carried state %.0f KiB;%s",
		len(samples), h.events, h.runs, h.wft, ms(h.wftTime), ms(h.wftMax), h.carryKB, h.breakdown())
	b.Logf("longest workflow tasks: %s", h.slowest())
}

// round makes k agents available at once and waits for their offers; then
// it puts them back on break and replaces the k calls offered.
func (a *assigner) round(ctx context.Context, k int) ([]sample, error) {
	names := make([]string, k)
	for i := range names {
		names[i] = agentName(a.next % a.agents)
		a.next++
		if err := a.awaitWrapped(ctx, names[i]); err != nil {
			return nil, err
		}
	}
	out := make([]sample, k)
	offered := make([]offerSeen, k)
	var wg sync.WaitGroup
	errs := make(chan error, k)
	for i, name := range names {
		ch := a.r.offers.expectFor(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := a.r.setAgent(ctx, name, "available", false); err != nil {
				errs <- err
				return
			}
			t1 := time.Now()
			select {
			case o := <-ch:
				out[i] = sample{set: t1.Sub(t0), fromReturn: o.At.Sub(t1), fromRequest: o.At.Sub(t0)}
				offered[i] = o
			case <-time.After(30 * time.Second):
				errs <- fmt.Errorf("agent %s: no offer 30 s after it became available: %w", name, errTimeout)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	// Back on break (pending: the agent is reserved), then the calls hang
	// up: after its wrap-up the agent stays on break.
	if err := parallel(k, setupConc, func(i int) error { return a.r.setAgent(ctx, names[i], "break", false) }); err != nil {
		return nil, err
	}
	if err := parallel(k, setupConc, func(i int) error {
		return a.r.c.SignalWorkflow(ctx, offered[i].Call, "", SignalHangUp, nil)
	}); err != nil {
		return nil, err
	}
	for i, o := range offered {
		a.lastCall[names[i]] = "cdr-" + o.Call
	}
	if err := parallel(k, setupConc, func(int) error { return a.r.startAndJoin(ctx) }); err != nil {
		return nil, err
	}
	return out, nil
}

// awaitWrapped waits until the agent's last call's wrap-up was saved: the
// router has then freed the agent (on break).
//
// The router can lose a routing.event signal that arrives in the workflow
// task in which it continues as new (bench/README.md): the call's ended
// event is then never applied and the agent stays on_call. When the
// wrap-up is late and the board shows exactly that, the benchmark sends
// the ended event again (counted in resent) instead of failing.
func (a *assigner) awaitWrapped(ctx context.Context, agent string) error {
	call, ok := a.lastCall[agent]
	if !ok {
		return nil
	}
	start, resent := time.Now(), false
	for !a.r.wrapped(call) {
		waited := time.Since(start)
		if !resent && waited > wrapUp+5*time.Second {
			v, err := a.r.agentView(ctx, agent)
			if err != nil {
				return err
			}
			if v.State == "on_call" && slices.Equal(v.Calls, []string{call}) {
				id := strings.TrimPrefix(call, "cdr-")
				if err := a.r.c.SignalWorkflow(ctx, activities.RouterWorkflowID, "", activities.SignalQueueEvent,
					activities.QueueEvent{Kind: activities.QueueEnded, Call: id, Token: "queue/1", Agent: agent, Talk: talk}); err != nil {
					return err
				}
				a.resent++
				resent = true
			}
		}
		if waited > wrapUp+30*time.Second {
			v, _ := a.r.agentView(ctx, agent)
			return fmt.Errorf("agent %s: the wrap-up of %s was not saved (the board shows %+v): %w", agent, call, v, errTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	delete(a.lastCall, agent)
	return nil
}
