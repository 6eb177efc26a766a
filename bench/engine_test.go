package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	examples "github.com/voxflow/voxflow/examples-flows"
	"github.com/voxflow/voxflow/examples-flows/democrm"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/simulator"
)

// BenchmarkEngine measures the call engine (CallWorkflow) end to end on an
// in-process Temporal server (temporaltest, one history shard), once with
// temporaltest's default dynamic config and once with
// devtemporal.TunedDynamicConfig, each on its own server:
//
//   - overhead/engine: one call of a flow with 20 pure nodes (set, branch)
//     and 5 activity nodes running a no-op custom activity on
//     activities.SharedQueue; op = one call, run sequentially.
//   - overhead/hand: a hand-written workflow running the same 5 activities
//     on the same queue, server and engine worker; op = one run.
//   - turn: caller turns on a menu loop; op = one turn, measured from the
//     moment the media Collect activity returns the digit to the moment the
//     next Collect starts in the media worker.
//   - overhead/ratio: no work; reports engine/hand ratios of the two runs
//     above (wall-p50-x, wall-mean-x, hist-p50-x, wft-x, cpu-x).
//   - throughput: examples-flows/support-line.yaml (hours open all day,
//     the demo CRM on loopback) through simulator.Run with input "2";
//     op = one call, 20 callers at a time.
//
// Metrics: ns/op is the mean; p50-ms/p99-ms are percentiles of the op's
// wall time. overhead also reports wft/call (WorkflowTaskCompleted events in
// each run's history), hist-p50-ms (workflow started -> completed event
// times, which a stalled client long poll cannot inflate) and
// hop-p50-ms/hop-p99-ms (node transition: a no-op activity returns in the
// worker -> the next one starts), head-p50-ms (workflow started event ->
// first no-op activity starts), tail-p50-ms (last no-op activity returns ->
// workflow closed event: for the engine that is the Hangup media activity
// and the CDR), wft-ms/call (time inside workflow tasks:
// started -> completed events, summed per call), events/call, and
// cpu-ms/call (CPU time of the whole process, server included, per call)
// and get-stalls (runs whose WorkflowRun.Get returned over 1 s after the
// workflow closed: a missed long-poll notification, bounded by
// history.longPollExpirationInterval).
// throughput reports calls/s, cpu-cores (process CPU seconds per second)
// and cpu-ms/call: on a shared machine calls/s follows the CPU the process
// gets, cpu-ms/call much less so.
//
// Figures in bench/README.md come from:
//
//	go test ./bench -run XXX -bench 'Engine/.*/(overhead|turn)' -benchtime 50x
//	go test ./bench -run XXX -bench 'Engine/.*/throughput' -benchtime 200x
func BenchmarkEngine(b *testing.B) {
	for _, cfg := range []struct {
		name   string
		values map[string]any
	}{
		{"default", nil},
		{"tuned", devtemporal.TunedDynamicConfig()},
	} {
		b.Run(cfg.name, func(b *testing.B) {
			s := newEngineStack(b, cfg.values)
			b.Run("overhead/engine", s.benchEngineCall)
			b.Run("overhead/hand", s.benchHandWritten)
			b.Run("overhead/ratio", s.benchRatio)
			b.Run("turn", s.benchTurn)
			b.Run("history", s.benchHistory)
			b.Run("throughput", s.benchThroughput)
		})
	}
}

// Task queues and names owned by this benchmark.
var (
	benchMediaQueue = activities.MediaQueue("bench-engine")
	benchSimID      = "bench-sim"
)

const (
	noopActivity    = "bench.Noop"
	handWorkflow    = "bench.HandWritten"
	turnsPerCall    = 50 // caller turns before a turn-benchmark call hangs up
	throughputConcy = 20 // concurrent callers in the throughput benchmark
)

// engineStack is one server with voxflow's workers and the benchmark's
// instrumented activities.
type engineStack struct {
	c       client.Client
	spans   *spanRecorder
	turns   sync.Map // call ID -> *turnCall
	crmURL  string
	channel *text.Channel
	results map[string]*overheadResult
}

type overheadResult struct {
	wallP50, wallMean, histP50, wft, cpu float64
}

func newEngineStack(b *testing.B, dc map[string]any) *engineStack {
	_, c := devtemporaltest.NewServerWithDynamicConfig(b, dc)
	s := &engineStack{c: c, spans: newSpanRecorder(), results: map[string]*overheadResult{}}

	// The engine worker as platform.StartWorkers makes it, plus the
	// hand-written workflow, so both run on the same worker and queue.
	eng := worker.New(c, activities.EngineQueue, worker.Options{LocalActivityWorkerOnly: true})
	engine.Register(eng)
	platform.StorelessActivities().RegisterLocal(eng)
	eng.RegisterWorkflowWithOptions(handWritten, workflow.RegisterOptions{Name: handWorkflow})

	// Shared activities as `voxflow flows simulate` runs them, plus the
	// no-op custom activity.
	shared := worker.New(c, activities.SharedQueue, worker.Options{})
	platform.StorelessActivities().Register(shared)
	shared.RegisterActivityWithOptions(s.noop, activity.RegisterOptions{Name: noopActivity})

	// Instrumented media activities for the overhead and turn benchmarks.
	media := worker.New(c, benchMediaQueue, worker.Options{})
	media.RegisterActivityWithOptions(s.play, activity.RegisterOptions{Name: activities.ActPlay})
	media.RegisterActivityWithOptions(s.collect, activity.RegisterOptions{Name: activities.ActCollect})
	media.RegisterActivityWithOptions(s.hangup, activity.RegisterOptions{Name: activities.ActHangup})

	// The real text channel for the simulator.
	s.channel = text.NewChannel(benchSimID, platform.HangupSignaler(c))
	sim := worker.New(c, s.channel.Queue(), worker.Options{})
	activities.RegisterChannel(sim, s.channel)

	for _, w := range []worker.Worker{eng, shared, media, sim} {
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Stop)
	}

	crm := httptest.NewServer(http.StripPrefix("/demo/crm", democrm.New().Handler()))
	b.Cleanup(crm.Close)
	s.crmURL = crm.URL + "/demo/crm"
	return s
}

// --- instrumented activities ---

// span is when an activity ran in its worker.
type span struct{ start, end time.Time }

// spanRecorder keeps the no-op activity spans per workflow ID.
type spanRecorder struct {
	mu   sync.Mutex
	byWF map[string][]span
}

func newSpanRecorder() *spanRecorder { return &spanRecorder{byWF: map[string][]span{}} }

func (r *spanRecorder) add(wf string, sp span) {
	r.mu.Lock()
	r.byWF[wf] = append(r.byWF[wf], sp)
	r.mu.Unlock()
}

// take returns and forgets a workflow's spans.
func (r *spanRecorder) take(wf string) []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	sps := r.byWF[wf]
	delete(r.byWF, wf)
	return sps
}

func (s *engineStack) noop(ctx context.Context, in map[string]any) (map[string]any, error) {
	start := time.Now()
	wf := activity.GetInfo(ctx).WorkflowExecution.ID
	out := map[string]any{"ok": true, "i": in["i"]}
	s.spans.add(wf, span{start: start, end: time.Now()})
	return out, nil
}

func (s *engineStack) play(ctx context.Context, in activities.PlayInput) error { return nil }

func (s *engineStack) hangup(ctx context.Context, in activities.HangupInput) error { return nil }

// turnCall is the caller side of one turn-benchmark call.
type turnCall struct {
	starts  chan time.Time // a Collect started
	digits  chan string    // the caller's next key
	lastEnd atomic.Int64   // UnixNano when the last Collect returned its digit
}

func (s *engineStack) collect(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
	start := time.Now()
	v, ok := s.turns.Load(in.CallID)
	if !ok {
		return activities.CollectResult{Kind: activities.InputTimeout}, nil
	}
	tc := v.(*turnCall)
	tc.starts <- start
	select {
	case d := <-tc.digits:
		tc.lastEnd.Store(time.Now().UnixNano())
		return activities.CollectResult{Kind: activities.InputDTMF, Digits: d}, nil
	case <-ctx.Done():
		return activities.CollectResult{}, ctx.Err()
	}
}

// --- 1. engine overhead ---

// overheadFlow has 20 pure nodes and 5 activity nodes: per activity, two
// set and two branch nodes before it.
func overheadFlow() string {
	var sb strings.Builder
	sb.WriteString("name: bench-overhead\nentry: set1a\nvariables:\n  x: 0\n  r: null\nnodes:\n")
	for i := 1; i <= 5; i++ {
		next := "set" + fmt.Sprint(i+1) + "a"
		if i == 5 {
			next = ""
		}
		fmt.Fprintf(&sb, `  set%[1]da:
    type: set
    assign:
      x: vars.x + 1
    next: br%[1]da
  br%[1]da:
    type: branch
    when:
      - if: vars.x < 0
        next: set%[1]db
    default: set%[1]db
  set%[1]db:
    type: set
    assign:
      x: vars.x * 1
    next: br%[1]db
  br%[1]db:
    type: branch
    when:
      - if: vars.x > 1000
        next: act%[1]d
    default: act%[1]d
  act%[1]d:
    type: activity
    name: %[2]s
    input:
      i: vars.x
    var: r
    max_attempts: 3
`, i, noopActivity)
		if next != "" {
			fmt.Fprintf(&sb, "    next: %s\n", next)
		}
	}
	return sb.String()
}

// handWritten runs the overhead flow's 5 activities with the options the
// engine gives an activity node (queue, timeout, retry policy), nothing else.
func handWritten(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.SharedQueue,
		StartToCloseTimeout: engine.DefaultActivityTimeout,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	for i := range 5 {
		var out any
		if err := workflow.ExecuteActivity(ctx, noopActivity, map[string]any{"i": float64(i)}).Get(ctx, &out); err != nil {
			return err
		}
	}
	return nil
}

func mustSource(b *testing.B, name, src string) activities.FlowSource {
	b.Helper()
	if _, diags := flows.Parse(name+".yaml", []byte(src)); diags.Err() != nil {
		b.Fatalf("flow %s: %v", name, diags.Err())
	}
	return activities.FlowSource{Name: name, Version: 1, Source: src}
}

func (s *engineStack) startCall(ctx context.Context, src activities.FlowSource, callID string) (client.WorkflowRun, error) {
	return platform.StartCall(ctx, s.c, engine.CallInput{
		Call:       flows.CallInfo{ID: callID, From: "+15550102", To: "bench", Channel: "text", StartedAt: time.Now().UTC()},
		Flow:       src,
		MediaQueue: benchMediaQueue,
	})
}

func (s *engineStack) benchEngineCall(b *testing.B) {
	src := mustSource(b, "bench-overhead", overheadFlow())
	s.benchOverhead(b, "engine", func(ctx context.Context, id string) (client.WorkflowRun, error) {
		return s.startCall(ctx, src, id)
	})
}

func (s *engineStack) benchHandWritten(b *testing.B) {
	s.benchOverhead(b, "hand", func(ctx context.Context, id string) (client.WorkflowRun, error) {
		return s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: activities.EngineQueue}, handWorkflow)
	})
}

func (s *engineStack) benchOverhead(b *testing.B, kind string, start func(context.Context, string) (client.WorkflowRun, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("%s-%d-%d", kind, b.N, time.Now().UnixNano())
	run := func(id string) (client.WorkflowRun, error) {
		r, err := start(ctx, id)
		if err != nil {
			return nil, err
		}
		return r, r.Get(ctx, nil)
	}
	if _, err := run(prefix + "-warmup"); err != nil { // workers polling, queues created
		b.Fatal(err)
	}
	s.spans.take(activities.WorkflowID(prefix + "-warmup"))
	s.spans.take(prefix + "-warmup")

	wall := make([]time.Duration, 0, b.N)
	runs := make([]client.WorkflowRun, 0, b.N)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		r, err := run(fmt.Sprintf("%s-%d", prefix, i))
		if err != nil {
			b.Fatal(err)
		}
		wall = append(wall, time.Since(t0))
		runs = append(runs, r)
	}
	b.StopTimer()
	cpu := float64(cpuTime()-cpu0) / float64(time.Millisecond) / float64(b.N)

	// Histories are read after the timed loop.
	var hist, hops, heads, tails []time.Duration
	var wft, events, stalls int
	var inWFT time.Duration
	for i, r := range runs {
		st, err := historyStats(ctx, s.c, r.GetID(), r.GetRunID())
		if err != nil {
			b.Fatal(err)
		}
		wft += st.wft
		events += st.events
		inWFT += st.inWFT
		hist = append(hist, st.last.Sub(st.first))
		if wall[i]-hist[i] > time.Second {
			stalls++ // the client's WorkflowRun.Get long poll missed the close
		}
		sps := s.spans.take(r.GetID())
		if len(sps) == 0 {
			b.Fatalf("%s: no activity ran", r.GetID())
		}
		for i := 1; i < len(sps); i++ {
			hops = append(hops, sps[i].start.Sub(sps[i-1].end))
		}
		heads = append(heads, sps[0].start.Sub(st.first))
		tails = append(tails, st.last.Sub(sps[len(sps)-1].end))
	}
	perCall := func(n float64) float64 { return n / float64(len(runs)) }

	wallP50, wallP99 := pctMS(wall, 0.50), pctMS(wall, 0.99)
	b.ReportMetric(wallP50, "p50-ms")
	b.ReportMetric(wallP99, "p99-ms")
	b.ReportMetric(pctMS(hist, 0.50), "hist-p50-ms")
	b.ReportMetric(perCall(float64(wft)), "wft/call")
	b.ReportMetric(perCall(float64(inWFT)/float64(time.Millisecond)), "wft-ms/call")
	b.ReportMetric(perCall(float64(events)), "events/call")
	b.ReportMetric(cpu, "cpu-ms/call")
	b.ReportMetric(float64(stalls), "get-stalls")
	b.ReportMetric(pctMS(hops, 0.50), "hop-p50-ms")
	b.ReportMetric(pctMS(hops, 0.99), "hop-p99-ms")
	b.ReportMetric(pctMS(heads, 0.50), "head-p50-ms")
	b.ReportMetric(pctMS(tails, 0.50), "tail-p50-ms")
	s.results[kind] = &overheadResult{
		wallP50: wallP50, wallMean: meanMS(wall), histP50: pctMS(hist, 0.50),
		wft: perCall(float64(wft)), cpu: cpu,
	}
}

// benchRatio reports the engine/hand-written ratios of the overhead runs
// just before it. It does no work: ignore its ns/op.
func (s *engineStack) benchRatio(b *testing.B) {
	e, h := s.results["engine"], s.results["hand"]
	if e == nil || h == nil {
		b.Skip("run overhead/engine and overhead/hand first")
	}
	b.ReportMetric(e.wallP50/h.wallP50, "wall-p50-x")
	b.ReportMetric(e.wallMean/h.wallMean, "wall-mean-x")
	b.ReportMetric(e.histP50/h.histP50, "hist-p50-x")
	b.ReportMetric(e.wft/h.wft, "wft-x")
	b.ReportMetric(e.cpu/h.cpu, "cpu-x")
}

// runStats is what one run's history tells.
type runStats struct {
	wft         int           // WorkflowTaskCompleted events
	events      int           // all events
	inWFT       time.Duration // sum of WorkflowTaskStarted -> WorkflowTaskCompleted
	first, last time.Time     // started and closing event times
}

func historyStats(ctx context.Context, c client.Client, id, runID string) (runStats, error) {
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var st runStats
	var wftStarted time.Time
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return st, fmt.Errorf("history of %s: %w", id, err)
		}
		at := ev.GetEventTime().AsTime()
		if st.first.IsZero() {
			st.first = at
		}
		st.last = at
		st.events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			wftStarted = at
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			st.wft++
			st.inWFT += at.Sub(wftStarted)
		}
	}
	return st, nil
}

// --- 2. caller turn ---

const turnFlow = `
name: bench-turns
entry: menu
settings:
  max_steps: 1000
variables:
  turns: 0
nodes:
  menu:
    type: menu
    prompt: "Press 1 to go round again, 2 to leave."
    options:
      "1": { next: count }
      "2": { next: bye }
    on_failure: bye
  count:
    type: set
    assign:
      turns: vars.turns + 1
    next: again
  again:
    type: branch
    when:
      - if: vars.turns >= 100000
        next: bye
    default: menu
  bye:
    type: hangup
    say: "Goodbye."
`

func (s *engineStack) benchTurn(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	src := mustSource(b, "bench-turns", turnFlow)
	prefix := fmt.Sprintf("turn-%d-%d", b.N, time.Now().UnixNano())
	calls := 0

	// open starts a call and waits for its first Collect.
	open := func() (*turnCall, client.WorkflowRun) {
		id := fmt.Sprintf("%s-%d", prefix, calls)
		calls++
		tc := &turnCall{starts: make(chan time.Time, 1), digits: make(chan string)}
		s.turns.Store(id, tc)
		run, err := s.startCall(ctx, src, id)
		if err != nil {
			b.Fatal(err)
		}
		select {
		case <-tc.starts:
		case <-ctx.Done():
			b.Fatal("first Collect never started")
		}
		return tc, run
	}
	// hangUp ends a call by pressing 2.
	hangUp := func(tc *turnCall, run client.WorkflowRun) {
		tc.digits <- "2"
		if err := run.Get(ctx, nil); err != nil {
			b.Fatal(err)
		}
		s.turns.Delete(strings.TrimPrefix(run.GetID(), "call-"))
	}
	// turn presses 1 and returns Collect returned -> next Collect started.
	turn := func(tc *turnCall) time.Duration {
		tc.digits <- "1"
		select {
		case at := <-tc.starts:
			return at.Sub(time.Unix(0, tc.lastEnd.Load()))
		case <-ctx.Done():
			b.Fatal("next Collect never started")
			return 0
		}
	}

	tc, run := open()
	turn(tc) // warm-up
	inCall := 1
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		if inCall == turnsPerCall {
			b.StopTimer()
			hangUp(tc, run)
			tc, run = open()
			inCall = 0
			b.StartTimer()
		}
		lat = append(lat, turn(tc))
		inCall++
	}
	b.StopTimer()
	hangUp(tc, run)
	b.ReportMetric(pctMS(lat, 0.50), "p50-ms")
	b.ReportMetric(pctMS(lat, 0.99), "p99-ms")
}

// --- 3b. history of a long call ---

// benchHistory runs one call of b.N caller turns on the turn flow (menu ->
// set -> branch -> menu) and reads the history of every run of it: events
// per turn, the runs (continue-as-new) and the longest run. 250 turns are
// about 30 minutes of a caller in menus at a 7 s turn (a 4 s prompt and a
// 3 s pause to choose).
func (s *engineStack) benchHistory(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	id := fmt.Sprintf("history-%d-%d", b.N, time.Now().UnixNano())
	tc := &turnCall{starts: make(chan time.Time, 1), digits: make(chan string)}
	s.turns.Store(id, tc)
	defer s.turns.Delete(id)
	// The turn flow with room for 10,000 caller turns.
	src := strings.Replace(turnFlow, "max_steps: 1000", "max_steps: 30000", 1)
	run, err := s.startCall(ctx, mustSource(b, "bench-turns", src), id)
	if err != nil {
		b.Fatal(err)
	}
	firstRun := run.GetRunID() // Get follows continue-as-new and moves it on
	press := func(key string) {
		select {
		case tc.digits <- key:
		case <-ctx.Done():
			b.Fatal("the call stopped asking for keys")
		}
	}
	<-tc.starts
	for range b.N {
		press("1")
		<-tc.starts
	}
	press("2")
	if err := run.Get(ctx, nil); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	runs, longest, total := s.runLengths(ctx, b, activities.WorkflowID(id), firstRun)
	b.ReportMetric(float64(total)/float64(b.N), "events/turn")
	b.ReportMetric(float64(runs), "runs")
	b.ReportMetric(float64(longest), "max-run-events")
	b.ReportMetric(float64(total), "events")
}

// runLengths counts the history events of every run of a call, following
// continue-as-new from its first run.
func (s *engineStack) runLengths(ctx context.Context, b *testing.B, workflowID, runID string) (runs, longest, total int) {
	for runID != "" {
		n, next := 0, ""
		it := s.c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			n++
			if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				next = a.GetNewExecutionRunId()
			}
		}
		runs, total, longest, runID = runs+1, total+n, max(longest, n), next
	}
	return runs, longest, total
}

// --- 4. throughput through the simulator ---

// supportLine is examples-flows/support-line.yaml open all day, so calls
// take the menu path.
func supportLine(b *testing.B) activities.FlowSource {
	b.Helper()
	files, err := examples.Files()
	if err != nil {
		b.Fatal(err)
	}
	var src string
	for _, f := range files {
		if f.Name == "support-line.yaml" {
			src = string(f.Source)
		}
	}
	const hours = "    schedule:\n      mon-fri: [\"08:00-20:00\"]\n      sat: [\"09:00-13:00\"]\n    holidays: [\"2026-12-25\", \"2027-01-01\"]\n"
	if !strings.Contains(src, hours) {
		b.Fatal("support-line.yaml: office_hours schedule changed; update the benchmark's substitution")
	}
	src = strings.Replace(src, hours, "    schedule:\n      daily: [\"00:00-24:00\"]\n", 1)
	return mustSource(b, "support-line", src)
}

func (s *engineStack) benchThroughput(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	src := supportLine(b)
	call := func() (*simulator.Result, error) {
		return simulator.New(s.c, s.channel).Run(ctx, simulator.Request{
			Flow: src, From: "+15550102", Inputs: []string{"2"},
			Vars: map[string]any{"crm_url": s.crmURL},
		}, simulator.Transcript{})
	}
	// Warm-up, and a check that the call takes the menu path.
	res, err := call()
	if err != nil {
		b.Fatal(err)
	}
	if p := strings.Join(res.Path, ">"); !strings.Contains(p, "lookup>vip_check>main_menu>to_billing") {
		b.Fatalf("support-line path %s: want the menu path", p)
	}

	var next atomic.Int64
	durs := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	errs := make(chan error, throughputConcy)
	b.ResetTimer()
	t0, cpu0 := time.Now(), cpuTime()
	for range min(throughputConcy, b.N) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				c0 := time.Now()
				if _, err := call(); err != nil {
					errs <- err
					return
				}
				durs[i] = time.Since(c0)
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cpu-cores")
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/call")
	b.ReportMetric(pctMS(durs, 0.50), "p50-ms")
	b.ReportMetric(pctMS(durs, 0.99), "p99-ms")
}

// --- helpers ---

// pctMS returns the p-th percentile (nearest rank below) in milliseconds.
func pctMS(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))]) / float64(time.Millisecond)
}

// cpuTime is the user+system CPU time of this process (server, workers and
// benchmark alike).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func meanMS(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return float64(sum) / float64(len(ds)) / float64(time.Millisecond)
}
