package devtemporal_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
)

const testQueue = "devtemporal-test"

var flowKey = temporal.NewSearchAttributeKeyKeyword(activities.AttrFlow)

func upper(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }

// greetWorkflow runs one activity; with wait it first blocks on signal "go"
// (a call in flight across a server restart).
func greetWorkflow(ctx workflow.Context, name string, wait bool) (string, error) {
	if wait {
		workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, upper, "hello "+name).Get(ctx, &out)
	return out, err
}

func quietClientLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("server: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type running struct {
	t   *testing.T
	srv *devtemporal.Server
	c   client.Client
	w   worker.Worker
}

func startDev(t *testing.T, ctx context.Context, dir string, port int) *running {
	t.Helper()
	begin := time.Now()
	srv, err := devtemporal.Start(ctx, devtemporal.Config{DataDir: dir, Port: port, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("file-backed server started in %v", time.Since(begin).Round(time.Millisecond))
	c, err := client.DialContext(ctx, client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", Logger: quietClientLogger()})
	if err != nil {
		_ = srv.Stop()
		t.Fatalf("dial: %v", err)
	}
	w := worker.New(c, testQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(greetWorkflow, workflow.RegisterOptions{Name: "greet"})
	w.RegisterActivityWithOptions(upper, activity.RegisterOptions{Name: "upper"})
	if err := w.Start(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	r := &running{t: t, srv: srv, c: c, w: w}
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	if r.w != nil {
		r.w.Stop()
		r.c.Close()
		if err := r.srv.Stop(); err != nil {
			r.t.Errorf("Stop: %v", err)
		}
		r.w = nil
	}
}

func TestFileBackedServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "data") // created by Start
	port := freePort(t)

	r := startDev(t, ctx, dir, port)
	if got, want := r.srv.FrontendHostPort(), "127.0.0.1:"+strconv.Itoa(port); got != want {
		t.Fatalf("FrontendHostPort %q, want %q", got, want)
	}
	if got := r.srv.DBPath(); got != filepath.Join(dir, devtemporal.DBFileName) {
		t.Errorf("DBPath %q", got)
	}
	for range 2 { // idempotent
		if err := devtemporal.RegisterSearchAttributes(ctx, r.c, "default"); err != nil {
			t.Fatalf("RegisterSearchAttributes: %v", err)
		}
	}

	// A completed call.
	run, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "call-done",
		TaskQueue:             testQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(flowKey.ValueSet("ivr-main")),
	}, "greet", "world", false)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "HELLO WORLD" {
		t.Fatalf("result %q, %v", out, err)
	}
	waitListed(t, ctx, r.c, `VoxflowFlow = "ivr-main"`, "call-done")

	// A call in flight across the restart.
	if _, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "call-waiting", TaskQueue: testQueue}, "greet", "again", true); err != nil {
		t.Fatalf("start waiting: %v", err)
	}
	// Let its first workflow task complete (the workflow is then blocked on the
	// signal). Stopping the worker mid-task would leave the task to time out
	// (10 s) after the restart: correct, but slow for a test.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if slices.Contains(historyEvents(t, ctx, r.c, "call-waiting"), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("call-waiting: first workflow task not completed")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The port is taken now.
	_, err = devtemporal.Start(ctx, devtemporal.Config{DataDir: t.TempDir(), Port: port})
	if !errors.Is(err, devtemporal.ErrPortInUse) {
		t.Fatalf("second server on the same port: got %v, want ErrPortInUse", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "--temporal-port") || !strings.Contains(msg, strconv.Itoa(port)) {
		t.Fatalf("error should name port %d and --temporal-port: %q", port, msg)
	}
	t.Logf("port in use: %v", err)

	// So is the data dir.
	_, err = devtemporal.Start(ctx, devtemporal.Config{DataDir: dir, Port: freePort(t)})
	if !errors.Is(err, devtemporal.ErrDataDirInUse) {
		t.Fatalf("second server on the same data dir: got %v, want ErrDataDirInUse", err)
	}

	begin := time.Now()
	r.stop()
	t.Logf("stopped in %v", time.Since(begin).Round(time.Millisecond))
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	t.Logf("data dir after stop: %v", files)
	if fi, err := os.Stat(filepath.Join(dir, devtemporal.DBFileName)); err != nil || fi.Size() == 0 {
		t.Fatalf("database file: %v", err)
	}

	// Restart on the same data dir: history and in-flight calls are still there.
	r = startDev(t, ctx, dir, port)
	events := historyEvents(t, ctx, r.c, "call-done")
	if !slices.Contains(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) || events[len(events)-1] != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		t.Fatalf("history of call-done after restart: %v", events)
	}
	if err := r.c.GetWorkflow(ctx, "call-done", "").Get(ctx, &out); err != nil || out != "HELLO WORLD" {
		t.Fatalf("result after restart %q, %v", out, err)
	}
	waitListed(t, ctx, r.c, `VoxflowFlow = "ivr-main"`, "call-done")

	t.Logf("checked history after restart at %v", time.Since(begin).Round(time.Millisecond))
	if err := r.c.SignalWorkflow(ctx, "call-waiting", "", "go", nil); err != nil {
		t.Fatalf("signal after restart: %v", err)
	}
	if err := r.c.GetWorkflow(ctx, "call-waiting", "").Get(ctx, &out); err != nil || out != "HELLO AGAIN" {
		t.Fatalf("in-flight call after restart: %q, %v", out, err)
	}
	t.Logf("in-flight call done at %v", time.Since(begin).Round(time.Millisecond))
	r.stop()
	t.Logf("second stop at %v", time.Since(begin).Round(time.Millisecond))
}

func historyEvents(t *testing.T, ctx context.Context, c client.Client, id string) []enumspb.EventType {
	t.Helper()
	var types []enumspb.EventType
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		types = append(types, ev.GetEventType())
	}
	return types
}

// waitListed waits until visibility (eventually consistent) lists id for query.
func waitListed(t *testing.T, ctx context.Context, c client.Client, query, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list %s: %v", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if e.GetExecution().GetWorkflowId() == id {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listed by %s", id, query)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDevtemporaltest checks the helper other packages' integration tests use
// and logs signal -> activity start latency on it (figures, not assertions).
func TestDevtemporaltest(t *testing.T) {
	ts, c := devtemporaltest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Logf("temporaltest namespace %s at %s", ts.GetDefaultNamespace(), ts.GetFrontendHostPort())

	const iterations = 20
	started := make(chan time.Time, 1)
	engine := worker.New(c, "engine-test", worker.Options{})
	engine.RegisterWorkflowWithOptions(turnsWorkflow, workflow.RegisterOptions{Name: "turns"})
	media := worker.New(c, activities.MediaQueue("test"), worker.Options{})
	media.RegisterActivityWithOptions(func(context.Context, int) error {
		started <- time.Now()
		return nil
	}, activity.RegisterOptions{Name: "collect"})
	for _, w := range []worker.Worker{engine, media} {
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "call-latency",
		TaskQueue:             "engine-test",
		TypedSearchAttributes: temporal.NewSearchAttributes(flowKey.ValueSet("latency")),
	}, "turns", activities.MediaQueue("test"), iterations)
	if err != nil {
		t.Fatal(err)
	}
	lat := make([]time.Duration, 0, iterations)
	for i := range iterations {
		t0 := time.Now()
		if err := c.SignalWorkflow(ctx, run.GetID(), "", "dtmf", i); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-started:
			lat = append(lat, at.Sub(t0))
		case <-ctx.Done():
			t.Fatalf("turn %d: activity never started", i)
		}
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lat)
	t.Logf("temporaltest+TunedDynamicConfig: signal -> activity start over %d turns: p50 %v, max %v",
		iterations, lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))

	// Search attributes were registered on the test namespace and are queryable.
	waitListed(t, ctx, c, `VoxflowFlow = "latency"`, "call-latency")
}

// turnsWorkflow runs one media activity per "dtmf" signal, like a caller turn.
func turnsWorkflow(ctx workflow.Context, mediaQueue string, turns int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           mediaQueue,
		StartToCloseTimeout: 10 * time.Second,
	})
	ch := workflow.GetSignalChannel(ctx, "dtmf")
	for range turns {
		var digit int
		ch.Receive(ctx, &digit)
		if err := workflow.ExecuteActivity(ctx, "collect", digit).Get(ctx, nil); err != nil {
			return fmt.Errorf("turn %d: %w", digit, err)
		}
	}
	return nil
}

// attrsWorkflow upserts the node attributes, as the engine does when a call
// enters a node.
func attrsWorkflow(ctx workflow.Context) error {
	return workflow.UpsertTypedSearchAttributes(ctx,
		temporal.NewSearchAttributeKeyKeyword(activities.AttrNode).ValueSet("ask"),
		temporal.NewSearchAttributeKeyTime(activities.AttrNodeSince).ValueSet(time.Unix(1_700_000_000, 0).UTC()))
}

// TestRegisteredSearchAttributesUsableAtOnce: the server caches search
// attributes per service (TunedDynamicConfig does not force a re-read), so
// RegisterSearchAttributes (run by devtemporaltest.NewServer on a namespace
// without them) must return only once they are usable. The first call right
// after is started with them, upserts them without a failed workflow task,
// and is listed by them; the probe workflow is gone.
func TestRegisteredSearchAttributesUsableAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	_, c := devtemporaltest.NewServer(t)
	t.Logf("server up, search attributes registered in %v", time.Since(begin).Round(time.Millisecond))

	w := worker.New(c, testQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(attrsWorkflow, workflow.RegisterOptions{Name: "attrs"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "call-first",
		TaskQueue: testQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			flowKey.ValueSet("ivr-main"), temporal.NewSearchAttributeKeyInt64(activities.AttrVersion).ValueSet(3)),
	}, "attrs")
	if err != nil {
		t.Fatalf("first call refused: %v", err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if events := historyEvents(t, ctx, c, "call-first"); slices.Contains(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
		t.Fatalf("upsert failed a workflow task: %v", events)
	}
	waitListed(t, ctx, c, `VoxflowFlow = "ivr-main" AND VoxflowVersion = 3 AND VoxflowNode = "ask"`, "call-first")
}
