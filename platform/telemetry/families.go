package telemetry

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Kind is what a name reported through a client.MetricsHandler measures.
type Kind int

// Kinds of metrics.
const (
	KindCounter Kind = iota + 1
	KindGauge
	KindTimer
)

func (k Kind) String() string {
	switch k {
	case KindCounter:
		return "counter"
	case KindGauge:
		return "gauge"
	case KindTimer:
		return "histogram"
	}
	return "unknown"
}

// TimeBuckets are the histogram buckets (seconds) of timers not declared
// with their own: from a millisecond (a local task) to a minute (a long
// poll).
var TimeBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Family describes a metric reported through the handler: its name as
// reported (Name), kind, help and, for timers, buckets.
type Family struct {
	Name    string
	Kind    Kind
	Help    string
	Buckets []float64 // nil: TimeBuckets
	// Labels, when set, are the only tags kept as labels (the SDK adds
	// tags such as worker_type="none" to whatever workflow code records).
	Labels []string
}

// Exported is the family's Prometheus name: x_total for a counter, x for
// a gauge, x_seconds for a timer.
func (f Family) Exported() string {
	switch f.Kind {
	case KindCounter:
		return withSuffix(f.Name, "_total")
	case KindTimer:
		return withSuffix(f.Name, "_seconds")
	}
	return f.Name
}

// Series are the names a scrape shows for the family: a histogram's
// _bucket, _sum and _count.
func (f Family) Series() []string {
	n := f.Exported()
	if f.Kind == KindTimer {
		return []string{n + "_bucket", n + "_sum", n + "_count"}
	}
	return []string{n}
}

func (f Family) buckets() []float64 {
	if f.Buckets == nil {
		return TimeBuckets
	}
	return f.Buckets
}

func withSuffix(name, suffix string) string {
	if strings.HasSuffix(name, suffix) {
		return name
	}
	return name + suffix
}

var (
	declMu       sync.Mutex
	declarations = map[string]Family{}
)

// Declare gives metrics reported through the handler their help and
// buckets (voxflow's own, recorded in workflow code). A name declared
// twice with another kind panics: two meanings for one series.
func Declare(fs ...Family) {
	declMu.Lock()
	defer declMu.Unlock()
	for _, f := range fs {
		if old, ok := declarations[f.Name]; ok && old.Kind != f.Kind {
			panic(fmt.Sprintf("telemetry: %s declared as %s and %s", f.Name, old.Kind, f.Kind))
		}
		declarations[f.Name] = f
	}
}

// declared is name's declaration, or a plain one of kind.
func declared(name string, kind Kind) Family {
	declMu.Lock()
	f, ok := declarations[name]
	declMu.Unlock()
	if ok && f.Kind == kind {
		return f
	}
	return Family{Name: name, Kind: kind, Help: fmt.Sprintf("Temporal SDK %s %s.", kind, name)}
}

// Families are the declared families, by name: the Temporal SDK metrics
// voxflow's dashboard and docs rely on, and voxflow's own.
func Families() []Family {
	declMu.Lock()
	defer declMu.Unlock()
	out := make([]Family, 0, len(declarations))
	for _, f := range declarations {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SDKFamilies are the Temporal SDK's metrics (go.temporal.io/sdk
// internal/common/metrics) that voxflow documents and graphs. The SDK
// reports more; those are exported too, with a generic help text.
var SDKFamilies = []Family{
	sdk("temporal_workflow_completed", KindCounter, "Workflow runs completed (by workflow_type, task_queue, namespace).", nil),
	sdk("temporal_workflow_failed", KindCounter, "Workflow runs failed.", nil),
	sdk("temporal_workflow_canceled", KindCounter, "Workflow runs cancelled.", nil),
	sdk("temporal_workflow_continue_as_new", KindCounter, "Workflow runs continued as new (long calls, the router).", nil),
	sdk("temporal_workflow_endtoend_latency", KindTimer, "Workflow run time from start to close.", []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400}),
	sdk("temporal_workflow_task_schedule_to_start_latency", KindTimer, "Time a workflow task waited in its queue for an engine worker.", nil),
	sdk("temporal_workflow_task_execution_latency", KindTimer, "Time an engine worker took to run a workflow task.", nil),
	sdk("temporal_workflow_task_replay_latency", KindTimer, "Time spent replaying history (cache misses).", nil),
	sdk("temporal_workflow_task_execution_failed", KindCounter, "Workflow tasks that failed (non-determinism, panics).", nil),
	sdk("temporal_workflow_task_queue_poll_succeed", KindCounter, "Workflow task polls that got a task.", nil),
	sdk("temporal_workflow_task_queue_poll_empty", KindCounter, "Workflow task polls that came back empty.", nil),
	sdk("temporal_activity_schedule_to_start_latency", KindTimer, "Time an activity task waited in its queue for a worker (media queues: a busy or missing media worker).", nil),
	sdk("temporal_activity_execution_latency", KindTimer, "Time an activity ran, by activity_type.", []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800}),
	sdk("temporal_activity_execution_failed", KindCounter, "Activity attempts that failed.", nil),
	sdk("temporal_activity_poll_no_task", KindCounter, "Activity task polls that came back empty.", nil),
	sdk("temporal_local_activity_execution_latency", KindTimer, "Time a local activity ran (call records, flow loading).", nil),
	sdk("temporal_local_activity_execution_failed", KindCounter, "Local activity attempts that failed.", nil),
	sdk("temporal_worker_start", KindCounter, "Workers started.", nil),
	sdk("temporal_worker_task_slots_available", KindGauge, "Free task slots of a worker, by worker_type (WorkflowWorker, ActivityWorker, LocalActivityWorker).", nil),
	sdk("temporal_worker_task_slots_used", KindGauge, "Task slots in use, by worker_type.", nil),
	sdk("temporal_num_pollers", KindGauge, "Pollers running, by poller_type.", nil),
	sdk("temporal_poller_start", KindCounter, "Pollers started.", nil),
	sdk("temporal_sticky_cache_size", KindGauge, "Workflows held in the worker's cache.", nil),
	sdk("temporal_sticky_cache_hit", KindCounter, "Workflow tasks served from the cache.", nil),
	sdk("temporal_sticky_cache_miss", KindCounter, "Workflow tasks that had to replay history.", nil),
	sdk("temporal_request", KindCounter, "Requests to the Temporal frontend, by operation.", nil),
	sdk("temporal_request_failure", KindCounter, "Failed requests to the Temporal frontend, by operation and status_code.", nil),
	sdk("temporal_request_latency", KindTimer, "Latency of requests to the Temporal frontend.", nil),
	sdk("temporal_long_request", KindCounter, "Long polls to the Temporal frontend.", nil),
	sdk("temporal_long_request_failure", KindCounter, "Failed long polls.", nil),
	sdk("temporal_long_request_latency", KindTimer, "Latency of long polls (how long a poller waited for a task).", []float64{0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 70}),
}

// sdk is an SDK family: every tag a label.
func sdk(name string, kind Kind, help string, buckets []float64) Family {
	return Family{Name: name, Kind: kind, Help: help, Buckets: buckets}
}

func init() { Declare(SDKFamilies...) }
