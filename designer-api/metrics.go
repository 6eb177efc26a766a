package designerapi

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

// Bounds of the metrics summary's work.
const (
	metricsMaxCalls = 1000
	metricsMaxCDRs  = 10_000
)

// NodeCount is how many running calls sit in a node.
type NodeCount struct {
	Node    string `json:"node"`
	Running int    `json:"running"`
}

// FlowCount is a flow's running calls, per node (the designer's heat map),
// and its calls ended within the window, per outcome.
type FlowCount struct {
	Flow    string         `json:"flow"`
	Running int            `json:"running"`
	Nodes   []NodeCount    `json:"nodes"`
	Ended   int            `json:"ended"`
	Outcome map[string]int `json:"outcomes,omitempty" doc:"Ended calls by outcome"`
}

// MetricsSummary counts calls by flow and node.
type MetricsSummary struct {
	Running int       `json:"running"`
	Ended   int       `json:"ended" doc:"Calls ended within the window (from CDRs)"`
	Since   time.Time `json:"since"`
	// Truncated: more than 1000 running calls or 10000 CDRs; counts cover those only.
	Truncated bool        `json:"truncated"`
	Flows     []FlowCount `json:"flows"`
}

type metricsInput struct {
	Flow   string `query:"flow" doc:"Only this flow"`
	Window string `query:"window" default:"1h" doc:"How far back ended calls are counted (Go duration)"`
}

type metricsOutput struct {
	Body MetricsSummary
}

func (s *server) registerMetrics(api huma.API) {
	huma.Register(api, op("metrics-summary", http.MethodGet, "/metrics/summary", RoleViewer, "Metrics",
		"Running calls by flow and node, and recently ended calls by flow and outcome"),
		s.metricsSummary)
}

// flowCounts collects a summary's per-flow counts.
type flowCounts map[string]*FlowCount

func (fc flowCounts) flow(name string) *FlowCount {
	c := fc[name]
	if c == nil {
		c = &FlowCount{Flow: name, Nodes: []NodeCount{}}
		fc[name] = c
	}
	return c
}

func (s *server) metricsSummary(ctx context.Context, in *metricsInput) (*metricsOutput, error) {
	window, err := time.ParseDuration(in.Window)
	if err != nil || window <= 0 {
		return nil, huma.Error422UnprocessableEntity("bad window",
			&huma.ErrorDetail{Message: "want a positive Go duration like 1h", Location: "query.window", Value: in.Window})
	}
	m, err := s.summary(ctx, in.Flow, window)
	if err != nil {
		return nil, err
	}
	return &metricsOutput{Body: m}, nil
}

// summary counts the running calls (of flow, if set) and those ended
// within window: the metrics summary, and the board stream's calls event.
func (s *server) summary(ctx context.Context, flow string, window time.Duration) (MetricsSummary, error) {
	m := MetricsSummary{Since: time.Now().UTC().Add(-window), Flows: []FlowCount{}}
	byFlow := flowCounts{}
	if s.cfg.Calls != nil {
		if err := s.countRunning(ctx, flow, &m, byFlow); err != nil {
			return m, err
		}
	}
	if s.cfg.Store != nil {
		if err := s.countEnded(ctx, flow, &m, byFlow); err != nil {
			return m, err
		}
	}
	for _, fc := range byFlow {
		m.Flows = append(m.Flows, *fc)
	}
	sort.Slice(m.Flows, func(i, j int) bool { return m.Flows[i].Flow < m.Flows[j].Flow })
	return m, nil
}

// countRunning counts the running calls (of flow, if set) by flow and node.
func (s *server) countRunning(ctx context.Context, flow string, m *MetricsSummary, byFlow flowCounts) error {
	calls, err := s.cfg.Calls.List(ctx, CallFilter{Flow: flow, Running: true, Limit: metricsMaxCalls})
	if err != nil {
		return s.fail("metrics: list calls", err)
	}
	m.Truncated = len(calls) >= metricsMaxCalls
	nodes := map[string]map[string]int{}
	for _, c := range calls {
		byFlow.flow(c.Flow).Running++
		m.Running++
		if nodes[c.Flow] == nil {
			nodes[c.Flow] = map[string]int{}
		}
		nodes[c.Flow][c.Node]++
	}
	for f, ns := range nodes {
		fc := byFlow[f]
		for n, k := range ns {
			fc.Nodes = append(fc.Nodes, NodeCount{Node: n, Running: k})
		}
		sort.Slice(fc.Nodes, func(i, j int) bool { return fc.Nodes[i].Node < fc.Nodes[j].Node })
	}
	return nil
}

// countEnded counts the calls (of flow, if set) ended since m.Since by flow
// and outcome, from at most metricsMaxCDRs CDRs.
func (s *server) countEnded(ctx context.Context, flow string, m *MetricsSummary, byFlow flowCounts) error {
	q := store.CDRQuery{Flow: flow, StartedAfter: m.Since, Limit: 1000}
	for seen := 0; ; {
		recs, next, err := s.cfg.Store.SearchCDRs(ctx, q)
		if err != nil {
			return s.fail("metrics: search CDRs", err)
		}
		for _, r := range recs {
			fc := byFlow.flow(r.Flow)
			fc.Ended++
			m.Ended++
			if fc.Outcome == nil {
				fc.Outcome = map[string]int{}
			}
			fc.Outcome[r.Outcome]++
		}
		seen += len(recs)
		if next == "" {
			return nil
		}
		if seen >= metricsMaxCDRs {
			m.Truncated = true
			return nil
		}
		q.PageToken = next
	}
}
