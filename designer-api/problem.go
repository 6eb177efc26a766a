package designerapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/voxflow/voxflow/flows"
)

// Diagnostic is one problem in a flow source, at a line and column of the
// YAML, with the YAML path of the offending value (field) and the node it
// belongs to. Location says which request part or stored source it is in
// (body.source, draft, version 3).
type Diagnostic struct {
	Message  string `json:"message"`
	Location string `json:"location" doc:"Where the source came from: body.source, draft or version N"`
	Field    string `json:"field,omitempty" doc:"YAML path of the offending value, e.g. $.nodes.menu.options.1.next"`
	Node     string `json:"node,omitempty" doc:"The node the problem is in, if any"`
	Line     int    `json:"line" doc:"1-based line in the YAML source"`
	Column   int    `json:"column" doc:"1-based column in the YAML source"`
	Severity string `json:"severity" enum:"error,warning"`
}

// FlowProblem is the RFC 9457 problem of an invalid flow (HTTP 422): the
// usual fields plus every diagnostic with field, line and column.
type FlowProblem struct {
	Type     string       `json:"type,omitempty" format:"uri" default:"about:blank"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail"`
	Instance string       `json:"instance,omitempty"`
	Errors   []Diagnostic `json:"errors"`
}

func (p *FlowProblem) Error() string { return p.Detail }

// GetStatus makes FlowProblem a huma.StatusError.
func (p *FlowProblem) GetStatus() int { return p.Status }

// ContentType answers application/problem+json.
func (p *FlowProblem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// invalidFlow is the 422 of a source with error diagnostics.
func invalidFlow(what string, ds []Diagnostic) *FlowProblem {
	var errs []Diagnostic
	for _, d := range ds {
		if d.Severity == string(flows.SeverityError) {
			errs = append(errs, d)
		}
	}
	detail := fmt.Sprintf("%s: the flow has %d error(s)", what, len(errs))
	if len(errs) > 0 {
		detail += fmt.Sprintf("; first at line %d, column %d: %s", errs[0].Line, errs[0].Column, errs[0].Message)
	}
	return &FlowProblem{Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail: detail, Errors: errs}
}

// nodeOf returns the node ID of a YAML path like $.nodes.menu.options.1.next.
func nodeOf(path string) string {
	rest, ok := strings.CutPrefix(path, "$.nodes.")
	if !ok {
		return ""
	}
	node, _, _ := strings.Cut(rest, ".")
	if i := strings.IndexByte(node, '['); i >= 0 {
		node = node[:i]
	}
	return node
}

// checkSource parses and validates a flow source. When name is set, the
// flow's own name must equal it (a flow is stored under its name).
func checkSource(name, src, location string) (*flows.Flow, []Diagnostic) {
	f, ds := flows.Parse(location, []byte(src))
	out := make([]Diagnostic, 0, len(ds))
	for _, d := range ds {
		out = append(out, Diagnostic{Message: d.Message, Location: location, Field: d.Path, Node: nodeOf(d.Path),
			Line: d.Line, Column: d.Column, Severity: string(d.Severity)})
	}
	if name != "" && f != nil && f.Name != "" && f.Name != name {
		line, col := keyPosition(src, "name")
		out = append(out, Diagnostic{
			Message:  fmt.Sprintf("the flow is named %q but is stored as %q: change name to %q", f.Name, name, name),
			Location: location, Field: "$.name", Line: line, Column: col, Severity: string(flows.SeverityError),
		})
	}
	return f, out
}

func hasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == string(flows.SeverityError) {
			return true
		}
	}
	return false
}

// keyPosition finds a top-level key's line and column (1,1 if absent).
func keyPosition(src, key string) (int, int) {
	for i, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, key+":") {
			return i + 1, 1
		}
	}
	return 1, 1
}
