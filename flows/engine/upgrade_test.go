package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
)

// Upgrades with calls in flight (docs/upgrades.md), on a real Temporal
// server with the production workers (platform.StartWorkers) and the text
// channel as the media worker:
//
//   - version A is the build from before the engine's fast path
//     (changeFastPath, the first versioned change): an engine capped at
//     "none" that also never asks for the changes when replaying, as that
//     build's code did not have them (engine.BuildBefore). What it issues
//     is what the binary that recorded testdata/histories/v0-*.json issued:
//     those histories replay on the Default branches of the current code;
//   - version B is this build: capped (engine.compat none) during the
//     rolling deploy, uncapped once no A worker is left.
//
// Each worker has its own client identity, so a call's history says which
// build ran each of its workflow tasks.

// upgradeFlow has two caller turns, so a call can start on one build and
// finish on another. Its greeting is a subflow the call loads from the
// store (LoadFlows) in its first workflow task: on the fast path a local
// activity, before it an activity on the shared queue, so the first task's
// commands differ between the builds.
const upgradeFlow = `
name: upgrade
entry: greet
variables:
  choice: ""
  confirmed: false
nodes:
  greet:
    type: subflow
    flow: upgrade-greeting
    next: menu
  menu:
    type: menu
    prompt: "Press 1 for sales or 2 for billing"
    options:
      "1": sales
      "2": billing
    on_failure: bye
  sales:
    type: set
    assign:
      choice: '"sales"'
    next: confirm
  billing:
    type: set
    assign:
      choice: '"billing"'
    next: confirm
  confirm:
    type: menu
    prompt: "Press 1 to confirm {{ vars.choice }}"
    options:
      "1": done
    on_failure: bye
  done:
    type: set
    assign:
      confirmed: "true"
    next: bye
  bye:
    type: hangup
    say: "Goodbye"
`

const greetingFlow = `
name: upgrade-greeting
entry: hello
nodes:
  hello:
    type: play
    say: "Welcome"
`

// greetingStore publishes the greeting subflow.
type greetingStore struct{}

func (greetingStore) LoadPublished(ctx context.Context, name string) (activities.FlowSource, error) {
	if name != "upgrade-greeting" {
		return activities.FlowSource{}, fmt.Errorf("flow %q is not published", name)
	}
	return activities.FlowSource{Name: name, Version: 1, Source: greetingFlow}, nil
}

// sharedActivities are the shared activities of every build.
func sharedActivities() *builtin.Activities {
	a := platform.StorelessActivities()
	a.Flows = greetingStore{}
	return a
}

// build is one version of the engine worker.
type build struct {
	name   string // the worker's identity in histories
	compat string // engine.compat
	before bool   // the build from before the changes above compat
}

var (
	buildA    = build{name: "engine-A", compat: engine.CompatNone, before: true}
	buildBCap = build{name: "engine-B-capped", compat: engine.CompatNone}
	buildB    = build{name: "engine-B"}
)

// upgradeStack is a Temporal server, a media worker (the text channel) and
// the engine workers running now.
type upgradeStack struct {
	t       *testing.T
	ts      *temporaltest.TestServer
	c       client.Client
	ch      *text.Channel
	running map[string]func()
}

func newUpgradeStack(t *testing.T) *upgradeStack {
	ts, c := devtemporaltest.NewServer(t)
	s := &upgradeStack{t: t, ts: ts, c: c, running: map[string]func(){}}
	s.ch = text.NewChannel("upgrade", platform.HangupSignaler(c))
	media, err := platform.StartWorkers(c, platform.Parts{Channels: []activities.Channel{s.ch}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, stop := range s.running {
			stop()
		}
		media.Stop()
	})
	return s
}

// run starts an engine worker of build b.
func (s *upgradeStack) run(b build) {
	s.t.Helper()
	c := s.ts.NewClientWithOptions(client.Options{Identity: b.name,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if b.before {
		s.running[b.name] = s.runBuildBefore(c, b)
		return
	}
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Compat: b.compat, Shared: sharedActivities()})
	if err != nil {
		s.t.Fatalf("start %s: %v", b.name, err)
	}
	s.running[b.name] = ws.Stop
}

// runBuildBefore starts b as platform.StartWorkers starts an engine, with
// the older build's ceiling.
func (s *upgradeStack) runBuildBefore(c client.Client, b build) func() {
	s.t.Helper()
	cp, err := engine.ParseCompat(b.compat)
	if err != nil {
		s.t.Fatal(err)
	}
	eng := worker.New(c, activities.EngineQueue, worker.Options{LocalActivityWorkerOnly: true})
	engine.RegisterWith(eng, engine.Options{Compat: engine.BuildBefore(cp)})
	sharedActivities().RegisterLocal(eng)
	shared := worker.New(c, activities.SharedQueue, worker.Options{})
	sharedActivities().Register(shared)
	for _, w := range []worker.Worker{eng, shared} {
		if err := w.Start(); err != nil {
			s.t.Fatalf("start %s: %v", b.name, err)
		}
	}
	return func() { eng.Stop(); shared.Stop() }
}

// stop stops the engine worker of build b.
func (s *upgradeStack) stop(b build) {
	s.running[b.name]()
	delete(s.running, b.name)
}

// liveCall is a call on the text channel.
type liveCall struct {
	id   string
	sess *text.Session
	c    client.Client
}

// dial starts n calls and waits until each listens at its first menu.
func (s *upgradeStack) dial(n int) []*liveCall {
	s.t.Helper()
	var out []*liveCall
	for range n {
		id := platform.NewCallID()
		lc := &liveCall{id: id, sess: s.ch.Open(id, nil), c: s.c}
		_, err := platform.StartCall(context.Background(), s.c, engine.CallInput{
			Call:       flows.CallInfo{ID: id, From: "100", To: "200", Channel: "text"},
			Flow:       activities.FlowSource{Name: "upgrade", Version: 1, Source: upgradeFlow},
			MediaQueue: s.ch.Queue(),
		})
		if err != nil {
			s.t.Fatal(err)
		}
		lc.listening(s.t, "menu")
		out = append(out, lc)
	}
	return out
}

// listening waits until the call waits for the caller at node.
func (lc *liveCall) listening(t *testing.T, node string) {
	t.Helper()
	limit := time.After(time.Minute) // a stalled call fails here, not the suite
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case e := <-lc.sess.Events():
			if e.Kind == text.EventListen && e.Node == node {
				return
			}
		case <-tick.C:
			if st := lc.status(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				t.Fatalf("call %s ended (%s) before listening at %s", lc.id, st, node)
			}
		case <-limit:
			t.Fatalf("call %s is not listening at %s after a minute", lc.id, node)
		}
	}
}

func (lc *liveCall) status() enumspb.WorkflowExecutionStatus {
	d, err := lc.c.DescribeWorkflowExecution(context.Background(), activities.WorkflowID(lc.id), "")
	if err != nil {
		return enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
	}
	return d.WorkflowExecutionInfo.Status
}

// press sends a key; with next, waits until the call listens there.
func (lc *liveCall) press(t *testing.T, key, next string) {
	t.Helper()
	if err := lc.sess.Send(text.Input{Kind: text.InputDTMF, Value: key}); err != nil {
		t.Fatalf("call %s: %v", lc.id, err)
	}
	if next != "" {
		lc.listening(t, next)
	}
}

// finish waits for the call's record and checks that the caller got what
// they chose.
func (s *upgradeStack) finish(lc *liveCall, choice string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rec records.CDR
	if err := platform.AwaitCall(ctx, s.c, lc.id, &rec); err != nil {
		s.t.Fatalf("call %s: %v", lc.id, err)
	}
	want := "greet>hello>menu>" + choice + ">confirm>done>bye"
	if got := path(rec); got != want || rec.Outcome != records.OutcomeCompleted ||
		rec.Vars["choice"] != choice || rec.Vars["confirmed"] != true {
		s.t.Errorf("call %s: path %s outcome %s vars %v, want %s completed, %s confirmed",
			lc.id, got, rec.Outcome, rec.Vars, want, choice)
	}
}

// callShape is what a call's history says about the commands it issued.
type callShape struct {
	id        string
	versions  map[string]int32 // change ID -> version marker recorded
	local     []string         // local activities (markers)
	scheduled []string         // activities scheduled on task queues
	heartbeat bool             // a media activity has a heartbeat timeout
	workers   map[string]bool  // identities that ran its workflow tasks
	failed    []string         // causes of failed workflow tasks
	history   *historypb.History
}

func (s *upgradeStack) shape(lc *liveCall) callShape {
	s.t.Helper()
	h, err := ops.History(context.Background(), s.c, lc.id, "")
	if err != nil {
		s.t.Fatal(err)
	}
	sh := callShape{id: lc.id, versions: map[string]int32{}, workers: map[string]bool{}, history: h}
	dc := converter.GetDefaultDataConverter()
	for _, e := range h.Events {
		switch e.EventType {
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			a := e.GetMarkerRecordedEventAttributes()
			if a.MarkerName == "Version" {
				var id string
				var v int32
				_ = dc.FromPayloads(a.Details["change-id"], &id)
				_ = dc.FromPayloads(a.Details["version"], &v)
				sh.versions[id] = v
				continue
			}
			var la struct{ ActivityType string }
			_ = dc.FromPayloads(a.Details["data"], &la)
			sh.local = append(sh.local, la.ActivityType)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := e.GetActivityTaskScheduledEventAttributes()
			sh.scheduled = append(sh.scheduled, a.ActivityType.GetName())
			sh.heartbeat = sh.heartbeat || a.HeartbeatTimeout.AsDuration() > 0
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			sh.workers[e.GetWorkflowTaskStartedEventAttributes().Identity] = true
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			sh.failed = append(sh.failed, e.GetWorkflowTaskFailedEventAttributes().Cause.String())
		}
	}
	return sh
}

// oldPath checks that a call kept version A's commands: no marker of any
// change, flow loading and call records on the shared queue, heartbeating
// media activities.
func (sh callShape) oldPath(t *testing.T) {
	t.Helper()
	if len(sh.versions) > 0 || len(sh.local) > 0 || !slices.Contains(sh.scheduled, activities.ActLoadFlows) ||
		!slices.Contains(sh.scheduled, activities.ActSaveCDR) || !sh.heartbeat {
		t.Errorf("call %s: markers %v, local activities %v, scheduled %v, heartbeats %v; want A's: no markers, LoadFlows and SaveCDR scheduled, heartbeats",
			sh.id, sh.versions, sh.local, sh.scheduled, sh.heartbeat)
	}
}

// fastPath checks that a call took the fast path.
func (sh callShape) fastPath(t *testing.T) {
	t.Helper()
	if sh.versions["fast-path"] != 1 || !slices.Equal(sh.local, []string{activities.ActLoadFlows, activities.ActSaveCDR}) ||
		slices.Contains(sh.scheduled, activities.ActLoadFlows) || slices.Contains(sh.scheduled, activities.ActSaveCDR) || sh.heartbeat {
		t.Errorf("call %s: markers %v, local activities %v, scheduled %v, heartbeats %v; want the fast path",
			sh.id, sh.versions, sh.local, sh.scheduled, sh.heartbeat)
	}
}

// healthy checks that no workflow task of the call failed and that the
// builds named (and only they) ran its workflow tasks.
func (sh callShape) healthy(t *testing.T, builds ...build) {
	t.Helper()
	if len(sh.failed) > 0 {
		t.Errorf("call %s: workflow tasks failed: %v", sh.id, sh.failed)
	}
	var want, got []string
	for _, b := range builds {
		want = append(want, b.name)
	}
	for w := range sh.workers {
		got = append(got, w)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("call %s ran on %v, want %v", sh.id, got, want)
	}
}

// replaysOn replays the call's history on build b's code, as `voxflow
// calls replay` does with that binary.
func (sh callShape) replaysOn(b build) error {
	cp, err := engine.ParseCompat(b.compat)
	if err != nil {
		return err
	}
	if b.before {
		cp = engine.BuildBefore(cp)
	}
	r := worker.NewWorkflowReplayer()
	engine.RegisterWith(r, engine.Options{Compat: cp})
	return r.ReplayWorkflowHistory(nil, sh.history)
}

// TestUpgradeStopAStartB: calls run on version A and wait for the caller;
// every A worker stops, B (uncapped) starts; the old calls finish on B with
// A's commands and no failed workflow task, while new calls on B take the
// fast path. The histories then say what a rollback could do: A replays
// the old calls but not the new ones.
func TestUpgradeStopAStartB(t *testing.T) {
	s := newUpgradeStack(t)
	s.run(buildA)
	old := s.dial(3)
	old[0].press(t, "1", "confirm") // a turn on A before the upgrade
	s.stop(buildA)
	s.run(buildB)
	old[0].press(t, "1", "")
	old[1].press(t, "2", "confirm")
	old[1].press(t, "1", "")
	old[2].press(t, "1", "confirm")
	old[2].press(t, "1", "")
	fresh := s.dial(2)
	for _, lc := range fresh {
		lc.press(t, "2", "confirm")
		lc.press(t, "1", "")
	}
	for i, lc := range old {
		s.finish(lc, []string{"sales", "billing", "sales"}[i])
		sh := s.shape(lc)
		sh.healthy(t, buildA, buildB)
		sh.oldPath(t)
		if err := sh.replaysOn(buildB); err != nil {
			t.Errorf("call %s does not replay on B: %v", lc.id, err)
		}
		if err := sh.replaysOn(buildA); err != nil {
			t.Errorf("call %s does not replay on A (a rollback would stall it): %v", lc.id, err)
		}
	}
	for _, lc := range fresh {
		s.finish(lc, "billing")
		sh := s.shape(lc)
		sh.healthy(t, buildB)
		sh.fastPath(t)
		if err := sh.replaysOn(buildA); err == nil {
			t.Errorf("call %s took the fast path, yet replays on A: version A is not the older build", lc.id)
		}
	}
	s.changeVersionFinds(`TemporalChangeVersion = "fast-path-1"`, fresh)
}

// changeVersionFinds checks that a visibility query (docs/upgrades.md:
// which calls took a change) finds exactly the calls want.
func (s *upgradeStack) changeVersionFinds(query string, want []*liveCall) {
	s.t.Helper()
	var ids []string
	for _, lc := range want {
		ids = append(ids, activities.WorkflowID(lc.id))
	}
	sort.Strings(ids)
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := s.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			s.t.Fatalf("list %s: %v", query, err)
		}
		got = got[:0]
		for _, e := range resp.Executions {
			got = append(got, e.Execution.WorkflowId)
		}
		sort.Strings(got)
		if slices.Equal(got, ids) {
			return
		}
	}
	s.t.Errorf("%s finds %v, want %v", query, got, ids)
}

// TestUpgradeWithoutCapStalls is the hazard the cap removes: a call that
// recorded the fast path on B, picked up by an A worker (a rolling deploy
// without the cap), fails its workflow task as nondeterministic and waits
// until a B worker takes it; then it finishes.
func TestUpgradeWithoutCapStalls(t *testing.T) {
	s := newUpgradeStack(t)
	s.run(buildB)
	lc := s.dial(1)[0]
	s.stop(buildB)
	s.run(buildA)
	lc.press(t, "1", "")
	for limit := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if sh := s.shape(lc); len(sh.failed) > 0 {
			if sh.failed[0] != enumspb.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR.String() {
				t.Errorf("A failed the task with %v, want a nondeterminism failure", sh.failed)
			}
			break
		}
		if time.Now().After(limit) {
			t.Fatal("A did not fail the fast-path call's task: version A is not the older build")
		}
	}
	s.stop(buildA)
	s.run(buildB)
	lc.listening(t, "confirm")
	lc.press(t, "1", "")
	s.finish(lc, "sales")
	s.shape(lc).fastPath(t)
}

// TestUpgradeRollingWithCap: B runs capped beside A and calls move between
// them in both directions (turn by turn, then side by side); none fails a
// workflow task and all keep A's commands. Then the cap is lifted with a
// rolling restart of B, where calls move between capped and uncapped B
// workers: a capped worker keeps to the fast path a call already took.
func TestUpgradeRollingWithCap(t *testing.T) {
	s := newUpgradeStack(t)
	s.run(buildA)
	early := s.dial(2)
	s.run(buildBCap)
	s.stop(buildA)
	early[0].press(t, "1", "confirm") // B (capped) replays A's first task
	mid := s.dial(2)                  // calls started on B (capped)
	s.run(buildA)
	s.stop(buildBCap)
	early[0].press(t, "1", "")      // A replays B's turn
	mid[0].press(t, "2", "confirm") // A replays a call B started
	s.run(buildBCap)                // side by side: any worker takes any task
	side := s.dial(4)
	for _, lc := range append([]*liveCall{early[1], mid[1]}, side...) {
		lc.press(t, "1", "confirm")
	}
	for _, lc := range append([]*liveCall{early[1], mid[0], mid[1]}, side...) {
		lc.press(t, "1", "")
	}
	for _, lc := range append(append(early, mid...), side...) {
		choice := "sales"
		if lc == mid[0] {
			choice = "billing"
		}
		s.finish(lc, choice)
		sh := s.shape(lc)
		sh.oldPath(t)
		if len(sh.failed) > 0 {
			t.Errorf("call %s: workflow tasks failed: %v", lc.id, sh.failed)
		}
	}
	s.shape(early[0]).healthy(t, buildA, buildBCap)
	s.shape(mid[0]).healthy(t, buildBCap, buildA)
	s.liftCap(t)
}

// liftCap is the second step: no A worker is left; B restarts uncapped
// replica by replica, so capped and uncapped B workers share calls.
func (s *upgradeStack) liftCap(t *testing.T) {
	s.stop(buildA)
	s.run(buildB)
	s.stop(buildBCap)
	lifted := s.dial(2) // on the fast path
	s.run(buildBCap)
	s.stop(buildB)
	lifted[0].press(t, "1", "confirm") // a capped worker replays the fast path
	s.run(buildB)
	s.stop(buildBCap)
	lifted[0].press(t, "1", "")
	lifted[1].press(t, "2", "confirm")
	lifted[1].press(t, "1", "")
	s.finish(lifted[0], "sales")
	s.finish(lifted[1], "billing")
	sh := s.shape(lifted[0])
	sh.fastPath(t)
	sh.healthy(t, buildB, buildBCap)
	sh = s.shape(lifted[1])
	sh.fastPath(t)
	sh.healthy(t, buildB)
}

func TestParseCompat(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "", want: ""},
		{in: "none", want: "none"},
		{in: "0", want: "none"},
		{in: "fast-path", want: "fast-path"},
		{in: "1", want: "fast-path"},
		{in: " routing ", want: "routing"},
		{in: "3", want: "local-ai"},
		{in: "4", want: "callback-retry"},
		{in: "5", err: `unknown engine change "5"`},
		{in: "-1", err: `unknown engine change "-1"`},
		{in: "fastpath", err: "want none, one of fast-path, routing, local-ai, callback-retry (or its number, 0-4)"},
	} {
		cp, err := engine.ParseCompat(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCompat(%q): %v, want an error with %q", tc.in, err, tc.err)
			}
		case err != nil || cp.String() != tc.want:
			t.Errorf("ParseCompat(%q) = %q, %v; want %q", tc.in, cp.String(), err, tc.want)
		}
	}
	if got := strings.Join(engine.Changes(), ","); got != "fast-path,routing,local-ai,callback-retry" {
		t.Errorf("Changes() = %s: the list is append-only, ceilings name positions in it", got)
	}
}
