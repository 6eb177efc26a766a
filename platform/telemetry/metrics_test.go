package telemetry_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/voxflow/voxflow/platform/telemetry"
)

// gather is every series of m by Prometheus name.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// Counters become x_total, gauges x, timers the histogram x_seconds; tags
// become labels, and a name's label set is the union of its series' tags.
func TestMetricsHandler(t *testing.T) {
	m := telemetry.NewMetrics()
	h := m.Handler().WithTags(map[string]string{"namespace": "default"})
	wf := h.WithTags(map[string]string{"workflow_type": "CallWorkflow", "task_queue": "voxflow-engine"})
	wf.Counter("temporal_workflow_completed").Inc(2)
	wf.Counter("temporal_workflow_completed").Inc(1)
	h.Counter("temporal_workflow_completed").Inc(1) // fewer tags: "" for the others
	h.WithTags(map[string]string{"worker_type": "ActivityWorker"}).Gauge("temporal_worker_task_slots_available").Update(19998)
	tm := wf.Timer("temporal_workflow_task_schedule_to_start_latency")
	for _, d := range []time.Duration{3 * time.Millisecond, 40 * time.Millisecond, 2 * time.Minute} {
		tm.Record(d)
	}
	h.WithTags(map[string]string{"bad-tag": "x"}).Counter("temporal_request").Inc(1)

	got := gather(t, m)
	c := got["temporal_workflow_completed_total"]
	if c.GetType() != dto.MetricType_COUNTER || len(c.GetMetric()) != 2 {
		t.Fatalf("completed: %v", c)
	}
	for _, s := range c.GetMetric() {
		l := labels(s)
		switch {
		case l["workflow_type"] == "CallWorkflow" && l["task_queue"] == "voxflow-engine" && l["namespace"] == "default":
			if s.GetCounter().GetValue() != 3 {
				t.Errorf("CallWorkflow completed = %v, want 3", s.GetCounter().GetValue())
			}
		case l["workflow_type"] == "" && l["namespace"] == "default":
			if s.GetCounter().GetValue() != 1 {
				t.Errorf("untagged completed = %v", s.GetCounter().GetValue())
			}
		default:
			t.Errorf("series %v", l)
		}
	}
	if g := got["temporal_worker_task_slots_available"]; g.GetType() != dto.MetricType_GAUGE || g.GetMetric()[0].GetGauge().GetValue() != 19998 {
		t.Errorf("slots: %v", g)
	}
	hist := got["temporal_workflow_task_schedule_to_start_latency_seconds"].GetMetric()[0].GetHistogram()
	if hist.GetSampleCount() != 3 || hist.GetSampleSum() < 120 {
		t.Errorf("latency histogram: %v", hist)
	}
	want := map[float64]uint64{0.001: 0, 0.005: 1, 0.05: 2, 60: 2} // 2 min is only in +Inf
	for _, b := range hist.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if r := got["temporal_request_total"]; r == nil || labels(r.GetMetric()[0])["bad_tag"] != "x" {
		t.Errorf("a tag name that is no label name is made one: %v", r)
	}
	if help := got["temporal_workflow_completed_total"].GetHelp(); !strings.Contains(help, "completed") {
		t.Errorf("declared help not used: %q", help)
	}
}

// A family declared with its labels keeps only those of the tags.
func TestDeclaredLabels(t *testing.T) {
	telemetry.Declare(telemetry.Family{Name: "voxflow_test_things", Kind: telemetry.KindCounter, Help: "Things.", Labels: []string{"channel"}})
	m := telemetry.NewMetrics()
	h := m.Handler().WithTags(map[string]string{"worker_type": "none", "channel": "sip"})
	h.Counter("voxflow_test_things").Inc(1)
	h.WithTags(map[string]string{"activity_type": "none"}).Counter("voxflow_test_things").Inc(1)
	f := gather(t, m)["voxflow_test_things_total"]
	if len(f.GetMetric()) != 1 || len(labels(f.GetMetric()[0])) != 1 || f.GetMetric()[0].GetCounter().GetValue() != 2 {
		t.Errorf("series: %v", f.GetMetric())
	}
}

// Every SDK metric voxflow documents is one the pinned SDK reports: a name
// misspelled here (and so in the dashboard) fails.
func TestSDKFamiliesAreTheSDKs(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	names := sdkMetricNames(t, filepath.Join(strings.TrimSpace(string(out)), "internal", "common", "metrics", "constants.go"))
	if !names["temporal_workflow_completed"] || !names["temporal_request_latency"] {
		t.Fatalf("constants.go not understood: %d names", len(names))
	}
	for _, f := range telemetry.SDKFamilies {
		if !names[f.Name] {
			t.Errorf("%s: not a metric of the SDK (internal/common/metrics/constants.go)", f.Name)
		}
	}
}

// sdkMetricNames evaluates the string constants of the SDK's metric names
// (TemporalMetricsPrefix + "x", TemporalRequest + "_latency", ...).
func sdkMetricNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]ast.Expr{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						exprs[n.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	var eval func(e ast.Expr) string
	eval = func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(e.Value)
			return s
		case *ast.Ident:
			if x, ok := exprs[e.Name]; ok {
				return eval(x)
			}
		case *ast.BinaryExpr:
			return eval(e.X) + eval(e.Y)
		}
		return ""
	}
	names := map[string]bool{}
	for _, e := range exprs {
		if v := eval(e); strings.HasPrefix(v, "temporal_") {
			names[v] = true
		}
	}
	return names
}
