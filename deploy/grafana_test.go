package deploy_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/telemetry"
)

const dashboardFile = "grafana/voxflow-dashboard.json"

// grafanaDashboard is the part of a Grafana dashboard the checks read.
type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Inputs        []grafanaInput `json:"__inputs"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

type grafanaInput struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	PluginID string `json:"pluginId"`
}

type grafanaPanel struct {
	Type       string             `json:"type"`
	Title      string             `json:"title"`
	Datasource *grafanaDatasource `json:"datasource"`
	Targets    []struct {
		Expr       string             `json:"expr"`
		Datasource *grafanaDatasource `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // a collapsed row's
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *grafanaDatasource
}

// The example dashboard has the four rows the docs promise, reads every
// panel from the ${DS_PROMETHEUS} data source, and queries only metrics
// voxflow exports (or Prometheus itself: up).
func TestGrafanaDashboard(t *testing.T) {
	var d grafanaDashboard
	if err := json.Unmarshal(dashboardRead(t, dashboardFile), &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	for _, p := range checkDashboard(d, exportedMetricNames(t)) {
		t.Error(p)
	}
}

// A misspelt metric, a panel on another data source or a missing row are
// caught.
func TestDashboardChecksRejectJunk(t *testing.T) {
	known := exportedMetricNames(t)
	for name, junk := range map[string]func(d *grafanaDashboard){
		"misspelt metric": func(d *grafanaDashboard) { d.Panels[2].Targets[0].Expr = "sum(rate(voxflow_call_started_total[5m]))" },
		"counter without _total": func(d *grafanaDashboard) {
			d.Panels[2].Targets[0].Expr = `rate(temporal_workflow_completed{workflow_type="CallWorkflow"}[5m])`
		},
		"histogram without _bucket": func(d *grafanaDashboard) {
			d.Panels[2].Targets[0].Expr = "histogram_quantile(0.5, rate(voxflow_media_mos[5m]))"
		},
		"other data source": func(d *grafanaDashboard) { d.Panels[2].Datasource = &grafanaDatasource{Type: "prometheus", UID: "abc"} },
		"no media quality row": func(d *grafanaDashboard) {
			for i := range d.Panels {
				if d.Panels[i].Title == "Media quality" {
					d.Panels[i].Title = "Media"
				}
			}
		},
	} {
		var d grafanaDashboard
		if err := json.Unmarshal(dashboardRead(t, dashboardFile), &d); err != nil {
			t.Fatal(err)
		}
		junk(&d)
		if problems := checkDashboard(d, known); len(problems) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

func checkDashboard(d grafanaDashboard, known map[string]bool) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		bad("dashboard: uid %q, title %q, schemaVersion %d (want >= 36)", d.UID, d.Title, d.SchemaVersion)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		bad("__inputs: want the one Prometheus data source DS_PROMETHEUS, got %+v", d.Inputs)
	}
	rows := map[string]bool{}
	var exprs []string
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				rows[p.Title] = true
				walk(p.Panels)
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" {
				bad("panel %q: data source %+v, want ${DS_PROMETHEUS}", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				bad("panel %q: no query", p.Title)
			}
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	walk(d.Panels)
	for _, r := range []string{"Calls", "Queues", "Media quality", "Worker health"} {
		if !rows[r] {
			bad("no row %q", r)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			var q struct{ Query string }
			if json.Unmarshal(v.Query, &q) != nil {
				_ = json.Unmarshal(v.Query, &q.Query)
			}
			exprs = append(exprs, q.Query)
		}
	}
	for _, e := range exprs {
		for _, m := range promQLMetrics(e) {
			if !known[m] {
				bad("query %q: %s is not a metric voxflow exports", e, m)
			}
		}
	}
	return problems
}

var (
	promQLStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promQLMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promQLRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promQLGrouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promQLVariables = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_]+`)
	promQLIdent     = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promQLKeywords  = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "bool": true,
		"and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true, "e": true}
)

// promQLMetrics are the metric names a PromQL expression (or a Grafana
// label_values query) reads: the identifiers left once strings, label
// matchers, ranges, groupings, variables, functions and keywords are taken
// out.
func promQLMetrics(expr string) []string {
	e := promQLVariables.ReplaceAllString(expr, " ")
	e = promQLStrings.ReplaceAllString(e, `""`)
	e = promQLMatchers.ReplaceAllString(e, " ")
	e = promQLRanges.ReplaceAllString(e, " ")
	e = promQLGrouping.ReplaceAllString(e, " ")
	var out []string
	for _, loc := range promQLIdent.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		rest := strings.TrimLeft(e[loc[1]:], " ")
		if promQLKeywords[strings.ToLower(word)] || strings.HasPrefix(rest, "(") {
			continue
		}
		if loc[0] > 0 && (e[loc[0]-1] == '.' || e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9') {
			continue // a number's digits or exponent
		}
		if strings.HasPrefix(expr, "label_values(") && word != promQLLabelValuesMetric(expr) {
			continue // the label name
		}
		out = append(out, word)
	}
	return out
}

// promQLLabelValuesMetric is the metric of label_values(metric, label).
func promQLLabelValuesMetric(q string) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(q, "label_values("), ")")
	m, _, _ := strings.Cut(inner, ",")
	return strings.TrimSpace(promQLMatchers.ReplaceAllString(m, ""))
}

var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// exportedMetricNames are the series names voxflow's processes export,
// from the collectors the processes build (their descriptions: a vector
// shows no series before its first observation), the families reported
// through the Temporal client's handler (the SDK's, checked against the
// SDK's source by platform/telemetry's tests, and voxflow's call metrics),
// the gauges voxflow dev builds inline, and Prometheus's own up.
func exportedMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{"up": true}
	collectors := []prometheus.Collector{
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		platform.NewRoutingCollector(nil), platform.NewCampaignCollector(nil, nil), platform.AICollector{},
	}
	collectors = append(collectors, sipworker.MetricCollectors("w")...)
	for _, c := range collectors {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := descName.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("description without a name: %s", d)
			}
			for _, s := range seriesSuffixes(c) {
				known[m[1]+s] = true
			}
		}
	}
	for _, f := range telemetry.Families() {
		for _, s := range f.Series() {
			known[s] = true
		}
	}
	for _, name := range inlineGauges(t) {
		known[name] = true
	}
	if !known[platform.MetricCallsStarted+"_total"] || !known["voxflow_queue_waiting"] || !known["voxflow_sip_invites_total"] {
		t.Fatalf("the names are not all there: %v", slices.Sorted(maps.Keys(known)))
	}
	return known
}

// seriesSuffixes are what a collector's names take in a scrape: a
// histogram's are name_bucket, _sum and _count, never name itself; the
// runtime collectors' summaries have name and its _sum and _count.
func seriesSuffixes(c prometheus.Collector) []string {
	switch c.(type) {
	case *prometheus.HistogramVec, prometheus.Histogram:
		return []string{"_bucket", "_sum", "_count"}
	case *platform.RoutingCollector, *platform.CampaignCollector, platform.AICollector, *prometheus.CounterVec, prometheus.GaugeFunc:
		return []string{""}
	}
	return []string{"", "_sum", "_count"}
}

var gaugeName = regexp.MustCompile(`Name:\s*"(voxflow_[a-z0-9_]+)"`)

// inlineGauges are the gauges voxflow dev declares in place
// (prometheus.GaugeOpts{Name: ...} in platform/devstack).
func inlineGauges(t *testing.T) []string {
	t.Helper()
	src := dashboardRead(t, filepath.Join("..", "platform", "devstack", "devstack.go"))
	var out []string
	for _, m := range gaugeName.FindAllSubmatch(src, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatal("platform/devstack/devstack.go declares no gauge any more: update inlineGauges")
	}
	return out
}

// dashboardRead reads a file of the repository, failing the test.
func dashboardRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPromQLMetrics(t *testing.T) {
	for expr, want := range map[string]string{
		`sum by (channel) (rate(voxflow_calls_started_total[$__rate_interval]))`:                                                                                     "voxflow_calls_started_total",
		`histogram_quantile(0.95, sum by (le, task_queue) (rate(temporal_workflow_task_schedule_to_start_latency_seconds_bucket{task_queue="voxflow-engine"}[5m])))`: "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
		`sum(rate(a_sum{x=~"$worker"}[1m])) / sum(rate(a_count[1m])) * 60 > 1e3`:                                                                                     "a_sum a_count",
		`up{job=~"$job"} == bool 1`:                       "up",
		`label_values(voxflow_sip_live_calls, worker)`:    "voxflow_sip_live_calls",
		`max(voxflow_llm_breaker_open) or vector(0)`:      "voxflow_llm_breaker_open",
		`rate(process_cpu_seconds_total[5m] offset 1h)`:   "process_cpu_seconds_total",
		`sum without (instance) (go_goroutines{a="b c"})`: "go_goroutines",
	} {
		if got := strings.Join(promQLMetrics(expr), " "); got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
}
