package telemetry_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/platform/telemetry"
)

const traceQueue = "trace-test"

func tracedWorkflow(ctx workflow.Context, fail bool) (string, error) {
	if fail {
		return "", temporal.NewNonRetryableApplicationError("asked to fail", "test", nil)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, "traced.Play", "hello").Get(ctx, &out)
	return out, err
}

func tracedActivity(ctx context.Context, s string) (string, error) { return "played " + s, nil }

// One request to the API starts a workflow whose activity runs on a
// worker: with tracing on, the HTTP request, the workflow start, the
// workflow, the activity's scheduling and its run are one trace, each
// span the child of the one before. The same run feeds the SDK's metrics
// into the process's Prometheus handler.
func TestTraceAPIToActivity(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	stop, err := telemetry.InstallTracer(context.Background(), rec, 1, "voxflow-test")
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	c := tracedClient(t)
	w := worker.New(c, traceQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(tracedWorkflow, workflow.RegisterOptions{Name: "traced.Call"})
	w.RegisterActivityWithOptions(tracedActivity, activity.RegisterOptions{Name: "traced.Play"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	api := httptest.NewServer(telemetry.HTTPHandler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fail := r.URL.Query().Get("fail") != ""
		run, err := c.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{TaskQueue: traceQueue}, "traced.Call", fail)
		var out string
		if err == nil {
			err = run.Get(r.Context(), &out)
		}
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(rw, out)
	}), "voxflow-api"))
	defer api.Close()
	for _, q := range []string{"", "?fail=1"} {
		res, err := http.Get(api.URL + "/api/v1/calls" + q)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	chain := []string{"GET voxflow-api", "StartWorkflow:traced.Call", "RunWorkflow:traced.Call", "StartActivity:traced.Play", "RunActivity:traced.Play"}
	spans := waitForSpans(t, rec, chain)
	for i := 1; i < len(chain); i++ {
		child, parent := spans[chain[i]], spans[chain[i-1]]
		if child.SpanContext().TraceID() != parent.SpanContext().TraceID() || child.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s is not a child of %s", chain[i], chain[i-1])
		}
	}
	checkSDKMetrics(t)
}

// tracedClient dials the test server as a voxflow process does: metrics
// handler and, tracing being on, the tracing interceptor.
func tracedClient(t *testing.T) client.Client {
	t.Helper()
	ts, _ := devtemporaltest.NewServer(t)
	o := client.Options{HostPort: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if err := telemetry.Instrument(&o); err != nil {
		t.Fatal(err)
	}
	if len(o.Interceptors) != 1 {
		t.Fatalf("tracing on, yet %d interceptors", len(o.Interceptors))
	}
	c, err := client.Dial(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitForSpans waits for the ended spans named (the HTTP server span ends
// after the client has its answer) and returns them by name: the first
// trace's, which succeeded.
func waitForSpans(t *testing.T, rec *tracetest.SpanRecorder, names []string) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			if _, seen := got[s.Name()]; !seen {
				got[s.Name()] = s
			}
		}
		missing := ""
		for _, n := range names {
			if got[n] == nil {
				missing = n
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			var all []string
			for _, s := range rec.Ended() {
				all = append(all, s.Name())
			}
			t.Fatalf("no span %q; spans: %v", missing, all)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkSDKMetrics: the run's SDK metrics reached the process's handler
// under the documented names.
func checkSDKMetrics(t *testing.T) {
	t.Helper()
	got := gather(t, telemetry.ProcessMetrics())
	for _, name := range []string{
		"temporal_workflow_completed_total", "temporal_workflow_failed_total",
		"temporal_workflow_endtoend_latency_seconds", "temporal_workflow_task_schedule_to_start_latency_seconds",
		"temporal_workflow_task_execution_latency_seconds", // activity schedule-to-start: not for an eager activity
		"temporal_activity_execution_latency_seconds", "temporal_worker_task_slots_available",
		"temporal_worker_task_slots_used", "temporal_num_pollers", "temporal_request_total", "temporal_request_latency_seconds",
		"temporal_long_request_latency_seconds",
	} {
		if got[name] == nil {
			t.Errorf("no %s after a workflow run", name)
		}
	}
	for _, m := range got["temporal_workflow_completed_total"].GetMetric() {
		if l := labels(m); l["workflow_type"] == "traced.Call" && l["task_queue"] == traceQueue && m.GetCounter().GetValue() == 1 {
			return
		}
	}
	t.Errorf("temporal_workflow_completed_total{workflow_type=\"traced.Call\"} is not 1: %v", got["temporal_workflow_completed_total"])
}
