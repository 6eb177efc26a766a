package platform

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/platform/telemetry"
)

// fakeCall stands in for CallWorkflow: it continues as new once when
// asked, waits for "go", then ends like a call (or fails).
func fakeCall(ctx workflow.Context, in engine.CallInput) (records.CDR, error) {
	if in.Vars["continue"] == true && workflow.GetInfo(ctx).ContinuedExecutionRunID == "" {
		return records.CDR{}, workflow.NewContinueAsNewError(ctx, activities.CallWorkflowName, in)
	}
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	if in.Vars["fail"] == true {
		return records.CDR{}, errors.New("the flow broke")
	}
	return records.CDR{CallID: in.Call.ID, Channel: in.Call.Channel, Outcome: records.OutcomeCompleted, Duration: 42 * time.Second}, nil
}

// Calls are counted once as they begin and end, by channel and outcome:
// not again when a history replays (the worker lost its cache), nor when
// a long call continues as new.
func TestCallMetrics(t *testing.T) {
	ts, _ := devtemporaltest.NewServer(t)
	m := telemetry.NewMetrics()
	c := ts.NewClientWithOptions(client.Options{MetricsHandler: m.Handler()})
	w := worker.New(c, "calls", worker.Options{Interceptors: []interceptor.WorkerInterceptor{&CallMetrics{}}})
	w.RegisterWorkflowWithOptions(fakeCall, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx := context.Background()
	start := func(id, channel string, vars map[string]any) {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: activities.WorkflowID(id), TaskQueue: "calls"},
			activities.CallWorkflowName, engine.CallInput{Call: flows.CallInfo{ID: id, Channel: channel}, Vars: vars})
		if err != nil {
			t.Fatal(err)
		}
	}
	start("a", "webrtc", map[string]any{"continue": true})
	start("b", "sip", nil)
	start("c", "chat", map[string]any{"fail": true})
	started := func(ch string) float64 { return value(t, m, "voxflow_calls_started_total", "channel", ch) }
	waitFor(t, "three calls started", func() bool { return started("webrtc")+started("sip")+started("chat") == 3 })
	worker.PurgeStickyWorkflowCache() // the next tasks replay each history from its start
	for _, id := range []string{"a", "b", "c"} {
		if err := c.SignalWorkflow(ctx, activities.WorkflowID(id), "", "go", nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		_ = c.GetWorkflow(ctx, activities.WorkflowID(id), "").Get(ctx, nil)
	}
	ended := func(ch, outcome string) float64 {
		return value(t, m, "voxflow_calls_ended_total", "channel", ch, "outcome", outcome)
	}
	waitFor(t, "three calls ended", func() bool {
		return ended("webrtc", "completed")+ended("sip", "completed")+ended("chat", "failed") == 3
	})
	for _, ch := range []string{"webrtc", "sip", "chat"} {
		if n := started(ch); n != 1 {
			t.Errorf("calls started on %s: %v, want 1", ch, n)
		}
	}
	if n := testutil.CollectAndCount(m, "voxflow_call_duration_seconds"); n != 2 {
		t.Errorf("duration series: %d, want 2 (the failed call has no record)", n)
	}
}

// value is the series of name with the labels given as pairs (0 if none).
func value(t *testing.T, c prometheus.Collector, name string, pairs ...string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(pairs); i += 2 {
				if have[pairs[i]] != pairs[i+1] {
					continue next
				}
			}
			return s.GetCounter().GetValue()
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
