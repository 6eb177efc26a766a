package routingload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/routing/router"
)

// FakeCallName is the stand-in call workflow's registered name.
const FakeCallName = "routingload.FakeCall"

const (
	// ringTimeout is every queue's ring time (the offer's reservation).
	ringTimeout = 20 * time.Second
	// wrapUp is every queue's wrap-up: after a FakeCall ends, its agent
	// wraps up this long (the router's timer), then the wrap-up is saved
	// (routing.SaveWrapUp on the shared queue).
	wrapUp = 2 * time.Second
	// talk is what a FakeCall reports as its conversation's length.
	talk = 90 * time.Second
)

// queues the calls spread over, with the skills their calls need; every
// agent has every skill and serves every queue.
var queues = []struct {
	name   string
	skills []string
}{
	{"sales", []string{"english:3"}},
	{"support", []string{"english:2", "spanish"}},
	{"billing", []string{"billing:2"}},
}

var agentSkills = map[string]int{"english": 5, "spanish": 3, "billing": 4}

func queueSettings(name string) activities.QueueSettings {
	return activities.QueueSettings{Name: name, AnnounceEvery: 30 * time.Second, MaxWait: 30 * time.Minute,
		RingTimeout: ringTimeout, WrapUp: wrapUp, SLThreshold: 20 * time.Second}
}

// rig is one embedded server with voxflow's engine worker (the router and
// the FakeCalls, on activities.EngineQueue) and a shared-queue worker
// (routing.SaveWrapUp, a no-op here).
type rig struct {
	c      client.Client
	router platform.Router
	offers offerLog
	saved  sync.Map     // CallID -> agent, once routing.SaveWrapUp ran for it
	calls  atomic.Int64 // FakeCalls started
	// retried counts router updates sent again (retryUpdate).
	retried atomic.Int64
	// routerStarts counts executions of the router workflow function in
	// the worker: new runs and full replays.
	routerStarts atomic.Int64
}

// retryUpdate runs an update on the router, again (up to 5 attempts)
// when the server failed it:
//   - WorkflowNotReady: the router's workflow task failed while it carried
//     the update (the router continued as new while a signal came in, or
//     the task hit the buffered-events limit: bench/README.md);
//   - the client gave up waiting (WorkflowUpdateServiceTimeoutOrCanceledError
//     while ctx is live): more than history.maxInFlightUpdates updates were
//     in flight and the SDK's retries of ResourceExhausted ran out.
//
// platform.Router retries neither (the routing.Join activity's retry
// policy would retry a join).
func (r *rig) retryUpdate(ctx context.Context, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		var notReady *serviceerror.WorkflowNotReady
		var gaveUp *client.WorkflowUpdateServiceTimeoutOrCanceledError
		retry := errors.As(err, &notReady) || errors.As(err, &gaveUp) && ctx.Err() == nil
		if err == nil || attempt == 5 || !retry {
			return err
		}
		r.retried.Add(1)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// wrapped reports whether the wrap-up of a call (its CallID) was saved.
func (r *rig) wrapped(callID string) bool {
	_, ok := r.saved.Load(callID)
	return ok
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	dc := devtemporal.TunedDynamicConfig()
	// The server admits at most history.maxInFlightUpdates (default 10)
	// updates at once per workflow; the next get ResourceExhausted and the
	// SDK retries them with backoff. TunedDynamicConfig leaves it alone;
	// this knob shows what raising it does.
	if v := os.Getenv("VOXFLOW_ROUTING_MAX_INFLIGHT_UPDATES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatalf("VOXFLOW_ROUTING_MAX_INFLIGHT_UPDATES: %v", err)
		}
		dc["history.maxInFlightUpdates"] = n
		tb.Logf("history.maxInFlightUpdates = %d", n)
	}
	_, c := devtemporaltest.NewServerWithDynamicConfig(tb, dc)
	r := &rig{c: c, router: platform.Router{Client: c}, offers: offerLog{expect: map[string]chan offerSeen{}}}
	// As platform.StartWorkers: the engine worker polls workflow tasks only.
	engine := worker.New(c, activities.EngineQueue, worker.Options{LocalActivityWorkerOnly: true})
	// The router as voxflow registers it, counted: the SDK runs the
	// function once per run it caches, and again from the first event
	// whenever it rebuilds a run it evicted (a full replay).
	engine.RegisterWorkflowWithOptions(func(ctx workflow.Context, in router.Input) error {
		r.routerStarts.Add(1)
		return router.RouterWorkflow(ctx, in)
	}, workflow.RegisterOptions{Name: activities.RouterWorkflowName})
	engine.RegisterWorkflowWithOptions(r.fakeCall, workflow.RegisterOptions{Name: FakeCallName})
	shared := worker.New(c, activities.SharedQueue, worker.Options{})
	shared.RegisterActivityWithOptions(func(_ context.Context, in activities.SaveWrapUpInput) error {
		r.saved.Store(in.CallID, in.Agent)
		return nil
	}, activity.RegisterOptions{Name: activities.ActSaveWrapUp})
	for _, w := range []worker.Worker{engine, shared} {
		if err := w.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(w.Stop)
	}
	return r
}

// --- the stand-in call ---

// offerSeen is an offer as a FakeCall's workflow code saw it.
type offerSeen struct {
	Call, Agent string
	At          time.Time
}

// offerLog hands each offer to whoever expects an offer for its agent;
// an offer nobody expects is stray (the measurement's protocol broke).
type offerLog struct {
	mu     sync.Mutex
	expect map[string]chan offerSeen
	stray  []offerSeen
}

func (l *offerLog) expectFor(agent string) <-chan offerSeen {
	ch := make(chan offerSeen, 1)
	l.mu.Lock()
	l.expect[agent] = ch
	l.mu.Unlock()
	return ch
}

func (l *offerLog) seen(o offerSeen) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.expect[o.Agent]; ok {
		delete(l.expect, o.Agent)
		ch <- o
		return
	}
	l.stray = append(l.stray, o)
}

func (l *offerLog) strays() []offerSeen {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.stray)
}

// SignalHangUp tells a FakeCall that its conversation is over: it then
// reports answered and ended to the router.
const SignalHangUp = "routingload.hang-up"

// fakeCall stands in for a call in a queue node: it waits for the
// router's offer of its stay (token) and stamps the moment its workflow
// code sees it (where a call would start ringing the agent: the transfer
// activity). When the benchmark hangs it up, it reports the agent
// answered and the conversation ended, as a call's bridge does, one
// signal after the other. (Waiting for the hang-up lets the benchmark put
// the agent on break first, so the agent takes no other call after its
// wrap-up, however long a burst takes.)
func (r *rig) fakeCall(ctx workflow.Context, token string) error {
	offers := workflow.GetSignalChannel(ctx, activities.SignalOffer)
	var o activities.Offer
	for {
		offers.Receive(ctx, &o)
		if o.Token == token {
			break
		}
	}
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	var at time.Time
	// A side effect runs once, when the workflow first executes (never on
	// replay); its result goes into history as a marker, no extra task.
	if err := workflow.SideEffect(ctx, func(workflow.Context) any {
		now := time.Now()
		r.offers.seen(offerSeen{Call: id, Agent: o.Agent, At: now})
		return now
	}).Get(&at); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, SignalHangUp).Receive(ctx, nil)
	send := func(ev activities.QueueEvent) error {
		ev.Call, ev.Token, ev.Agent = id, token, o.Agent
		return workflow.SignalExternalWorkflow(ctx, activities.RouterWorkflowID, "", activities.SignalQueueEvent, ev).Get(ctx, nil)
	}
	if err := send(activities.QueueEvent{Kind: activities.QueueAnswered, Ring: 3 * time.Second}); err != nil {
		return err
	}
	return send(activities.QueueEvent{Kind: activities.QueueEnded, Talk: talk})
}

// --- driving the router ---

func agentName(i int) string { return fmt.Sprintf("agent-%03d", i) }

// setAgent changes an agent's state; profile signs the agent in.
func (r *rig) setAgent(ctx context.Context, agent, state string, profile bool) error {
	req := activities.AgentRequest{Agent: agent, State: state}
	if state == "break" {
		req.Reason = "bench"
	}
	if profile {
		req.Profile = &activities.AgentProfile{Skills: agentSkills, Capacity: 1}
	}
	err := r.retryUpdate(ctx, func() error {
		_, err := r.router.SetAgent(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("agent %s %s: %w", agent, state, err)
	}
	return nil
}

// signInOnBreak signs n agents in (available, no call waits yet) and puts
// them on break, conc at a time.
func (r *rig) signInOnBreak(ctx context.Context, n, conc int) error {
	return parallel(n, conc, func(i int) error {
		if err := r.setAgent(ctx, agentName(i), "available", true); err != nil {
			return err
		}
		return r.setAgent(ctx, agentName(i), "break", false)
	})
}

// joinRequest is call's stay in queue number n % len(queues).
func joinRequest(call string, n int) activities.JoinRequest {
	q := queues[n%len(queues)]
	return activities.JoinRequest{
		JoinInput: activities.JoinInput{Call: call, CallID: "cdr-" + call, Queue: q.name, Skills: q.skills,
			From: fmt.Sprintf("+1555%07d", n), Token: "queue/1"},
		Settings: queueSettings(q.name),
	}
}

// join adds a call to a queue, as the routing.Join activity does.
func (r *rig) join(ctx context.Context, call string, n int) error {
	var res activities.JoinResult
	err := r.retryUpdate(ctx, func() (err error) {
		res, err = r.router.Join(ctx, joinRequest(call, n))
		return err
	})
	if err != nil {
		return fmt.Errorf("join %s: %w", call, err)
	}
	if res.Full || !res.Position.Found {
		return fmt.Errorf("join %s: %+v", call, res)
	}
	return nil
}

// startAndJoin starts a FakeCall and joins it to a queue.
func (r *rig) startAndJoin(ctx context.Context) error {
	n := int(r.calls.Add(1))
	call := fmt.Sprintf("call-%06d", n)
	if _, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: call, TaskQueue: activities.EngineQueue},
		FakeCallName, "queue/1"); err != nil {
		return fmt.Errorf("start %s: %w", call, err)
	}
	return r.join(ctx, call, n)
}

// waiting is how many calls the router holds unoffered, and how many
// agents it knows in each state.
func (r *rig) waiting(ctx context.Context) (int, map[string]int, error) {
	b, err := r.router.Board(ctx)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for _, q := range b.Queues {
		n += q.Waiting
	}
	states := map[string]int{}
	for _, a := range b.Agents {
		states[a.State]++
	}
	return n, states, nil
}

// agentView is an agent as the board shows it.
func (r *rig) agentView(ctx context.Context, agent string) (activities.AgentView, error) {
	b, err := r.router.Board(ctx)
	if err != nil {
		return activities.AgentView{}, err
	}
	for _, a := range b.Agents {
		if a.Name == agent {
			return a, nil
		}
	}
	return activities.AgentView{}, fmt.Errorf("board: no agent %s", agent)
}

// awaitWaiting polls the board until want calls wait, or fails after
// limit.
func (r *rig) awaitWaiting(ctx context.Context, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, states, err := r.waiting(ctx)
		if err != nil {
			return err
		}
		if n == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("router holds %d waiting calls, want %d (agents %v)", n, want, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// parallel runs f(0..n-1), conc at a time, and returns the first error.
func parallel(n, conc int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for range min(conc, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// --- the router's history ---

// mark is a point in the router's history: a run and its length then.
type mark struct {
	run    string
	events int
	starts int64 // rig.routerStarts then
}

func (r *rig) mark(ctx context.Context) (mark, error) {
	d, err := r.c.DescribeWorkflowExecution(ctx, activities.RouterWorkflowID, "")
	if err != nil {
		return mark{}, err
	}
	info := d.GetWorkflowExecutionInfo()
	return mark{run: info.GetExecution().GetRunId(), events: int(info.GetHistoryLength()), starts: r.routerStarts.Load()}, nil
}

// histStats sums the router's history since a mark, across continue-as-new.
type histStats struct {
	events  int
	runs    int // runs the span touched: continue-as-new happened runs-1 times
	wft     int // workflow tasks completed
	wftTime time.Duration
	wftMax  time.Duration
	types   map[string]int
	carryKB float64 // the last new run's input (the carried State), KiB
	slow    []slowTask
	// replays: the worker ran the router function from its first event
	// for a run it already had (cache eviction), not for a new run.
	replays int
}

// slowTask is one of the longest workflow tasks of the span.
type slowTask struct {
	run     int // 0: the run of the mark
	started int64
	d       time.Duration
	first   bool // the first task of its run (it decodes the carried State)
	retry   bool // the task after a failed one (the worker replays the run)
}

func (t slowTask) String() string {
	s := fmt.Sprintf("run %d event %d: %.0f ms", t.run, t.started, ms(t.d))
	if t.first {
		s += " (first task of the run)"
	}
	if t.retry {
		s += " (after a failed task)"
	}
	return s
}

// keepSlow keeps the n longest tasks.
func (h *histStats) keepSlow(t slowTask, n int) {
	h.slow = append(h.slow, t)
	slices.SortFunc(h.slow, func(a, b slowTask) int { return int(b.d - a.d) })
	if len(h.slow) > n {
		h.slow = h.slow[:n]
	}
}

func (h histStats) slowest() string {
	var parts []string
	for _, t := range h.slow {
		parts = append(parts, t.String())
	}
	return strings.Join(parts, "; ")
}

func (h histStats) continued() int { return max(h.runs-1, 0) }

// breakdown lists the event types, most frequent first.
func (h histStats) breakdown() string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range h.types {
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v || kvs[i].v == kvs[j].v && kvs[i].k < kvs[j].k })
	var sb strings.Builder
	for _, e := range kvs {
		fmt.Fprintf(&sb, " %s=%d", strings.TrimPrefix(e.k, "EVENT_TYPE_"), e.v)
	}
	return sb.String()
}

func (r *rig) since(ctx context.Context, m mark) (histStats, error) {
	h := histStats{types: map[string]int{}}
	run, skip := m.run, m.events
	for run != "" {
		it := r.c.GetWorkflowHistory(ctx, activities.RouterWorkflowID, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		n, next := 0, ""
		var started time.Time
		var startedID int64
		failed := false
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return h, err
			}
			n++
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				started, startedID = e.GetEventTime().AsTime(), e.GetEventId()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				if n > skip {
					size := 0
					for _, p := range e.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads() {
						size += len(p.GetData())
					}
					h.carryKB = float64(size) / 1024
				}
			}
			if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				next = a.GetNewExecutionRunId()
			}
			if n <= skip {
				continue
			}
			h.events++
			h.types[e.GetEventType().String()]++
			if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
				h.types["failed:"+strings.TrimPrefix(a.GetCause().String(), "WORKFLOW_TASK_FAILED_CAUSE_")]++
				failed = true
			}
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && !started.IsZero() {
				d := e.GetEventTime().AsTime().Sub(started)
				h.wft++
				h.wftTime += d
				h.wftMax = max(h.wftMax, d)
				h.keepSlow(slowTask{run: h.runs, started: startedID, d: d, first: startedID == 3, retry: failed}, 5)
				failed = false
			}
		}
		h.runs++
		run, skip = next, 0
	}
	h.replays = int(r.routerStarts.Load()-m.starts) - h.continued()
	return h, nil
}

// --- figures ---

// pctMS is the p-th percentile (nearest rank below) in milliseconds.
func pctMS(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))]) / float64(time.Millisecond)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cpuTime is the user+system CPU time of this process (server, workers
// and benchmark alike).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var errTimeout = errors.New("timed out")

// startProfile starts a CPU profile of the process into
// $VOXFLOW_ROUTING_PROFILE_DIR/<benchmark>.cpu.pprof when that is set (and
// no -test.cpuprofile runs); the function returned stops it. Only runs
// with b.N > 1 are profiled.
func startProfile(b *testing.B) func() {
	dir := os.Getenv("VOXFLOW_ROUTING_PROFILE_DIR")
	if dir == "" || b.N <= 1 {
		return func() {}
	}
	if !pprofStarted.CompareAndSwap(false, true) {
		b.Fatal("VOXFLOW_ROUTING_PROFILE_DIR: a profile is already running (-test.cpuprofile?)")
	}
	name := strings.NewReplacer("/", "_", "Benchmark", "").Replace(b.Name())
	f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		pprofStarted.Store(false)
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	})
	b.Cleanup(stop) // also when the benchmark fails
	return stop
}

var pprofStarted atomic.Bool
