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
		func(ctx context.Context, in *metricsInput) (*metricsOutput, error) {
			window, err := time.ParseDuration(in.Window)
			if err != nil || window <= 0 {
				return nil, huma.Error422UnprocessableEntity("bad window",
					&huma.ErrorDetail{Message: "want a positive Go duration like 1h", Location: "query.window", Value: in.Window})
			}
			m := MetricsSummary{Since: time.Now().UTC().Add(-window), Flows: []FlowCount{}}
			byFlow := map[string]*FlowCount{}
			flow := func(name string) *FlowCount {
				fc := byFlow[name]
				if fc == nil {
					fc = &FlowCount{Flow: name, Nodes: []NodeCount{}}
					byFlow[name] = fc
				}
				return fc
			}
			if s.cfg.Calls != nil {
				calls, err := s.cfg.Calls.List(ctx, CallFilter{Flow: in.Flow, Running: true, Limit: metricsMaxCalls})
				if err != nil {
					return nil, s.fail("metrics: list calls", err)
				}
				m.Truncated = len(calls) >= metricsMaxCalls
				nodes := map[string]map[string]int{}
				for _, c := range calls {
					fc := flow(c.Flow)
					fc.Running++
					m.Running++
					if nodes[c.Flow] == nil {
						nodes[c.Flow] = map[string]int{}
					}
					nodes[c.Flow][c.Node]++
				}
				for f, ns := range nodes {
					for n, k := range ns {
						byFlow[f].Nodes = append(byFlow[f].Nodes, NodeCount{Node: n, Running: k})
					}
					sort.Slice(byFlow[f].Nodes, func(i, j int) bool { return byFlow[f].Nodes[i].Node < byFlow[f].Nodes[j].Node })
				}
			}
			if s.cfg.Store != nil {
				q := store.CDRQuery{Flow: in.Flow, StartedAfter: m.Since, Limit: 1000}
				for seen := 0; ; {
					recs, next, err := s.cfg.Store.SearchCDRs(ctx, q)
					if err != nil {
						return nil, s.fail("metrics: search CDRs", err)
					}
					for _, r := range recs {
						fc := flow(r.Flow)
						fc.Ended++
						m.Ended++
						if fc.Outcome == nil {
							fc.Outcome = map[string]int{}
						}
						fc.Outcome[r.Outcome]++
					}
					seen += len(recs)
					if next == "" {
						break
					}
					if seen >= metricsMaxCDRs {
						m.Truncated = true
						break
					}
					q.PageToken = next
				}
			}
			for _, fc := range byFlow {
				m.Flows = append(m.Flows, *fc)
			}
			sort.Slice(m.Flows, func(i, j int) bool { return m.Flows[i].Flow < m.Flows[j].Flow })
			return &metricsOutput{Body: m}, nil
		})
}
