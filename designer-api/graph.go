package designerapi

import (
	"sort"

	"github.com/voxflow/voxflow/flows"
)

// Layout spacing of the automatic layered layout, in designer units.
const (
	layoutColumnWidth = 240
	layoutRowHeight   = 140
)

// GraphNode is one node of the flow graph.
type GraphNode struct {
	ID    string  `json:"id"`
	Type  string  `json:"type"`
	Label string  `json:"label,omitempty"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	// Placed says where X and Y come from: "metadata" (metadata.positions in
	// the flow file, kept by the designer) or "auto" (the layered layout).
	Placed   string `json:"placed" enum:"metadata,auto"`
	Entry    bool   `json:"entry,omitempty"`
	OnHangup bool   `json:"on_hangup,omitempty"`
	Errors   int    `json:"errors,omitempty" doc:"How many error diagnostics concern this node"`
}

// GraphEdge is one exit of a node (Node.Exits): next, option N, when N,
// default, open/closed/holiday, split shares, on_failure, on_timeout, on_error.
type GraphEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Label string `json:"label"`
	Field string `json:"field" doc:"Field below the node that holds the edge, e.g. options.1.next"`
	// Dangling is set when To names no node (a validation error).
	Dangling bool `json:"dangling,omitempty"`
}

// Graph is a flow as nodes and edges with positions.
type Graph struct {
	Flow        string       `json:"flow"`
	Source      string       `json:"source" doc:"Which source was drawn: draft, version N or body"`
	Entry       string       `json:"entry"`
	Nodes       []GraphNode  `json:"nodes"`
	Edges       []GraphEdge  `json:"edges"`
	Valid       bool         `json:"valid"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// buildGraph turns a decoded flow into a graph. Positions come from
// metadata.positions.<node>: {x, y}; nodes without one are placed by a
// layered layout: breadth-first from the entry (then on_hangup, then any
// node not reached), one row per depth, columns in discovery order.
func buildGraph(f *flows.Flow, label string, ds []Diagnostic) Graph {
	g := Graph{Flow: f.Name, Source: label, Entry: f.Entry, Nodes: []GraphNode{}, Edges: []GraphEdge{},
		Valid: !hasErrors(ds), Diagnostics: ds}
	errs := map[string]int{}
	for _, d := range ds {
		if d.Node != "" && d.Severity == string(flows.SeverityError) {
			errs[d.Node]++
		}
	}
	auto := autoLayout(f)
	pinned := metadataPositions(f)
	ids := make([]string, 0, len(f.Nodes))
	for id := range f.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := f.Nodes[id]
		gn := GraphNode{ID: id, Type: string(n.Type), Label: n.Label, Entry: id == f.Entry,
			OnHangup: id == f.OnHangup, Errors: errs[id], Placed: "auto"}
		if p, ok := pinned[id]; ok {
			gn.X, gn.Y, gn.Placed = p[0], p[1], "metadata"
		} else {
			p := auto[id]
			gn.X, gn.Y = p[0], p[1]
		}
		g.Nodes = append(g.Nodes, gn)
		for _, e := range n.Exits() {
			_, ok := f.Nodes[e.Target]
			g.Edges = append(g.Edges, GraphEdge{From: id, To: e.Target, Label: e.Label, Field: e.Field, Dangling: !ok})
		}
	}
	return g
}

// autoLayout places every node on a grid by breadth-first depth.
func autoLayout(f *flows.Flow) map[string][2]float64 {
	depth := map[string]int{}
	var rows [][]string
	place := func(id string, d int) {
		for len(rows) <= d {
			rows = append(rows, nil)
		}
		depth[id] = d
		rows[d] = append(rows[d], id)
	}
	bfs := func(root string) {
		if _, ok := f.Nodes[root]; !ok {
			return
		}
		if _, seen := depth[root]; seen {
			return
		}
		place(root, 0)
		queue := []string{root}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			for _, e := range f.Nodes[id].Exits() {
				if _, ok := f.Nodes[e.Target]; !ok {
					continue
				}
				if _, seen := depth[e.Target]; seen {
					continue
				}
				place(e.Target, depth[id]+1)
				queue = append(queue, e.Target)
			}
		}
	}
	bfs(f.Entry)
	bfs(f.OnHangup)
	rest := make([]string, 0)
	for id := range f.Nodes {
		if _, ok := depth[id]; !ok {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	for _, id := range rest {
		bfs(id)
	}
	out := make(map[string][2]float64, len(depth))
	for d, row := range rows {
		for col, id := range row {
			out[id] = [2]float64{float64(col * layoutColumnWidth), float64(d * layoutRowHeight)}
		}
	}
	return out
}

// metadataPositions reads metadata.positions.<node>: {x: N, y: N}.
func metadataPositions(f *flows.Flow) map[string][2]float64 {
	out := map[string][2]float64{}
	raw, ok := asMap(f.Metadata["positions"])
	if !ok {
		return out
	}
	for id, v := range raw {
		m, ok := asMap(v)
		if !ok {
			continue
		}
		x, okx := asFloat(m["x"])
		y, oky := asFloat(m["y"])
		if okx && oky {
			out[id] = [2]float64{x, y}
		}
	}
	return out
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			if s, ok := k.(string); ok {
				out[s] = e
			}
		}
		return out, true
	}
	return nil, false
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}
