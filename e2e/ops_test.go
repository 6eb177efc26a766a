package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
)

const twoMenus = `
name: two-menus
entry: greet
variables:
  picked: ""
on_hangup: wrap
nodes:
  greet:
    type: play
    say: "Welcome"
    next: menu
  menu:
    type: menu
    prompt: "Press 1 for sales or 2 for billing"
    options:
      "1": sales_menu
      "2": billing
  sales_menu:
    type: menu
    prompt: "Sales: press 1 for new orders"
    options:
      "1": bye
  billing:
    type: set
    assign:
      picked: '"billing"'
    next: bye
  bye:
    type: hangup
    say: "Goodbye"
  wrap:
    type: set
    assign:
      picked: 'vars.picked == "" ? "hung up" : vars.picked'
`

// liveCall is an interactive call on the text channel.
type liveCall struct {
	id   string
	sess *text.Session
	run  interface {
		Get(context.Context, any) error
	}
	listens chan string
}

func (s *stack) startLive(t *testing.T, src string) *liveCall {
	t.Helper()
	f, diags := flows.Parse("live.yaml", []byte(src))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	id := platform.NewCallID()
	lc := &liveCall{id: id, sess: s.ch.Open(id, nil), listens: make(chan string, 16)}
	t.Cleanup(func() { s.ch.Close(id) })
	run, err := platform.StartCall(context.Background(), s.c, engine.CallInput{
		Call:       flows.CallInfo{ID: id, From: "+15550102", To: "1000", Channel: "text", StartedAt: time.Now().UTC()},
		Flow:       activities.FlowSource{Name: f.Name, Version: 7, Source: src},
		MediaQueue: s.ch.Queue(),
	})
	if err != nil {
		t.Fatal(err)
	}
	lc.run = run
	go func() {
		for {
			select {
			case e := <-lc.sess.Events():
				if e.Kind == text.EventListen {
					lc.listens <- e.Node
				}
			case <-lc.sess.Done():
				return
			}
		}
	}()
	return lc
}

// waitListen waits until the call asks the caller for input at node.
func (lc *liveCall) waitListen(t *testing.T, node string) {
	t.Helper()
	select {
	case got := <-lc.listens:
		if got != node {
			t.Fatalf("caller asked for input at %s, want %s", got, node)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("call never asked for input at %s", node)
	}
}

func (lc *liveCall) result(t *testing.T, s *stack) records.CDR {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Follow the latest run: a reset starts a new one.
	var rec records.CDR
	if err := platform.AwaitCall(ctx, s.c, lc.id, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func pathOf(rec records.CDR) string {
	var ids []string
	for _, st := range rec.Path {
		ids = append(ids, st.Node)
	}
	return strings.Join(ids, ">")
}

// A caller hanging up mid-prompt: the signal cancels the media activity on
// the real server, on_hangup runs, and the CDR says the caller hung up.
func TestHangupCancelsMediaAndRunsOnHangup(t *testing.T) {
	s := newStack(t)
	lc := s.startLive(t, twoMenus)
	lc.waitListen(t, "menu")
	if err := s.c.SignalWorkflow(context.Background(), activities.WorkflowID(lc.id), "", activities.SignalHangup, nil); err != nil {
		t.Fatal(err)
	}
	rec := lc.result(t, s)
	if rec.Outcome != records.OutcomeHungUp || rec.Vars["picked"] != "hung up" || pathOf(rec) != "greet>menu>wrap" {
		t.Errorf("outcome %s picked %v path %s", rec.Outcome, rec.Vars["picked"], pathOf(rec))
	}
	if rec.Path[1].Outcome != "caller_hangup" {
		t.Errorf("menu step = %+v", rec.Path[1])
	}
}

// Operators see the live call by flow and node, find it stuck, reset it to
// an earlier node, and the call continues from there.
func TestListStuckResetReplay(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	lc := s.startLive(t, twoMenus)
	lc.waitListen(t, "menu")
	if err := lc.sess.Send(text.ParseInput("1")); err != nil {
		t.Fatal(err)
	}
	lc.waitListen(t, "sales_menu")

	var listed []ops.CallSummary
	waitFor(t, "call listed at sales_menu", func() bool {
		var err error
		listed, err = ops.List(ctx, s.c, ops.Filter{Flow: "two-menus", Node: "sales_menu", Running: true})
		return err == nil && len(listed) == 1
	})
	if listed[0].CallID != lc.id || listed[0].Version != 7 || listed[0].Status != "running" {
		t.Errorf("listed = %+v", listed[0])
	}

	stuck, err := ops.Stuck(ctx, s.c, 0, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(stuck) != 1 || !strings.Contains(stuck[0].Reason, "in node sales_menu") {
		t.Errorf("stuck = %+v", stuck)
	}
	if none, _ := ops.Stuck(ctx, s.c, time.Hour, time.Now()); len(none) != 0 {
		t.Errorf("stuck with 1h threshold = %+v", none)
	}

	st, err := ops.Show(ctx, s.c, lc.id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Node != "sales_menu" || len(st.Path) != 3 || st.Path[1].Input != "1" {
		t.Errorf("state = %+v", st)
	}

	runID, err := ops.Reset(ctx, s.c, s.namespace, lc.id, "menu", "test reset")
	if err != nil {
		t.Fatal(err)
	}
	if runID == "" {
		t.Fatal("no new run")
	}
	lc.waitListen(t, "menu") // the caller is asked the first menu again
	if err := lc.sess.Send(text.ParseInput("2")); err != nil {
		t.Fatal(err)
	}
	rec := lc.result(t, s)
	if rec.RunID != runID || rec.Vars["picked"] != "billing" || pathOf(rec) != "greet>menu>billing>bye>wrap" {
		t.Errorf("after reset: run %s (want %s) picked %v path %s", rec.RunID, runID, rec.Vars["picked"], pathOf(rec))
	}

	// Both the reset run's history and the original's replay cleanly.
	h, err := ops.History(ctx, s.c, lc.id, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.Replay(h, nil); err != nil {
		t.Errorf("replay: %v", err)
	}
}

const loopFlow = `
name: loop
entry: tick
variables:
  n: 0
nodes:
  tick:
    type: set
    assign:
      n: vars.n + 1
    next: pause
  pause:
    type: wait
    duration: 10ms
    next: tick
`

// A long call continues as new before its history grows too large and
// keeps its state and path across runs.
func TestContinueAsNewKeepsState(t *testing.T) {
	s := newStack(t)
	id := platform.NewCallID()
	s.ch.Open(id, []text.Input{})
	run, err := platform.StartCall(context.Background(), s.c, engine.CallInput{
		Call:       flows.CallInfo{ID: id, Channel: "text", StartedAt: time.Now().UTC()},
		Flow:       activities.FlowSource{Name: "loop", Version: 1, Source: loopFlow},
		MediaQueue: s.ch.Queue(),
		Limits:     engine.Limits{MaxSteps: 40, HistoryEvents: 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var rec records.CDR
	if err := s.c.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	runs := map[string]bool{}
	for _, st := range rec.Path {
		runs[st.RunID] = true
	}
	if rec.Outcome != records.OutcomeMaxSteps || rec.Vars["n"] != float64(20) || len(rec.Path) != 40 || len(runs) < 3 {
		t.Errorf("outcome %s n %v steps %d runs %d", rec.Outcome, rec.Vars["n"], len(rec.Path), len(runs))
	}
}

const failingActivity = `
name: failing
entry: lookup
nodes:
  lookup:
    type: activity
    name: NotRegisteredAnywhere
    max_attempts: 10
`

// An activity that keeps failing makes the call stuck, with the reason.
func TestStuckReportsFailingActivity(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	lc := s.startLive(t, failingActivity)
	var stuck []ops.StuckCall
	waitFor(t, "the failing call reported stuck", func() bool {
		var err error
		stuck, err = ops.Stuck(ctx, s.c, time.Hour, time.Now())
		return err == nil && len(stuck) == 1
	})
	if stuck[0].CallID != lc.id || !strings.Contains(stuck[0].Reason, "activity NotRegisteredAnywhere failing (attempt ") || !strings.Contains(stuck[0].Reason, "NotRegisteredAnywhere") {
		t.Errorf("stuck = %+v", stuck[0])
	}
	if err := s.c.TerminateWorkflow(ctx, activities.WorkflowID(lc.id), "", "test over"); err != nil {
		t.Fatal(err)
	}
}

// A media worker that dies mid-call (its host hangs: no result, no more
// reports to the registry): the media watchdog notices it went silent and
// signals the call, which calls the caller back through the least-loaded
// live worker from the registry, resumes at the menu, and the CDR tells
// the story.
func TestMediaWorkerDeathCallsBack(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()

	// Worker A answers the call, then its host dies during the menu.
	dead := make(chan struct{})
	t.Cleanup(func() { close(dead) })
	wa := worker.New(s.c, activities.MediaQueue("dying"), worker.Options{})
	hang := func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
		<-dead // never answers, never heartbeats
		return activities.CollectResult{}, errors.New("unreachable")
	}
	wa.RegisterActivityWithOptions(hang, activity.RegisterOptions{Name: activities.ActCollect})
	if err := wa.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wa.Stop)

	// The dying worker reported once; the text channel is the live worker
	// the callback goes through, reporting every second as workers do.
	if err := s.store.ReportMediaWorker(ctx, records.MediaWorker{ID: "dying", Queue: activities.MediaQueue("dying"), LiveCalls: 1}); err != nil {
		t.Fatal(err)
	}
	reportCtx, stopReports := context.WithCancel(ctx)
	t.Cleanup(stopReports)
	go func() {
		for reportCtx.Err() == nil {
			_ = s.store.ReportMediaWorker(reportCtx, records.MediaWorker{ID: "e2e", Queue: s.ch.Queue()})
			select {
			case <-reportCtx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	id := platform.NewCallID()
	sess := s.ch.Open(id, []text.Input{text.ParseInput("2")})
	t.Cleanup(func() { s.ch.Close(id) })
	start := time.Now()
	if _, err := platform.StartCall(ctx, s.c, engine.CallInput{
		Call:       flows.CallInfo{ID: id, From: "+15550102", To: "1000", Channel: "sip", StartedAt: time.Now().UTC()},
		Flow:       activities.FlowSource{Name: "two-menus", Version: 1, Source: twoMenus},
		MediaQueue: activities.MediaQueue("dying"),
		Recovery:   engine.Recovery{Delay: 200 * time.Millisecond},
	}); err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var rec records.CDR
	if err := platform.AwaitCall(actx, s.c, id, &rec); err != nil {
		t.Fatal(err)
	}
	t.Logf("death noticed and call completed in %s", time.Since(start).Round(time.Millisecond))
	if got := pathOf(rec); got != "greet>menu>menu>billing>bye>wrap" {
		t.Errorf("path = %s", got)
	}
	lost := rec.Path[1]
	if lost.Outcome != "callback" || !strings.Contains(lost.Error, "media worker lost") || !strings.Contains(lost.Error, "media-lost signal") {
		t.Errorf("lost step = %+v", lost)
	}
	if took := lost.LeftAt.Sub(lost.EnteredAt); took > 15*time.Second {
		t.Errorf("the workflow took %s to notice the dead worker", took)
	}
	if rec.Outcome != records.OutcomeCompleted || rec.Vars["picked"] != "billing" {
		t.Errorf("outcome %s vars %v", rec.Outcome, rec.Vars)
	}
	saw := false
	for {
		select {
		case e := <-sess.Events():
			if e.Kind == text.EventAnswered {
				saw = true
			}
			continue
		default:
		}
		break
	}
	if !saw {
		t.Error("the callback was never answered on the live worker")
	}
}
