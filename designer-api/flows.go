package designerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

// MaxSourceBytes bounds a flow source in a request (1 MiB).
const MaxSourceBytes = 1 << 20

// maxFlowBody is the request body limit of operations carrying a source:
// the source (JSON-escaped, so up to 2x) plus the envelope.
const maxFlowBody = 2*MaxSourceBytes + 64<<10

// flowNamePattern is what a flow name may look like in a path.
const flowNamePattern = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`

// DraftInfo is a flow's draft with its validation result.
type DraftInfo struct {
	Flow        string       `json:"flow"`
	ETag        string       `json:"etag" doc:"Send as If-Match to update, publish or delete this exact draft"`
	Revision    int          `json:"revision"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Source      string       `json:"source"`
	Valid       bool         `json:"valid"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// FlowDetail is one flow: its draft (if any) and latest published version.
type FlowDetail struct {
	Name          string             `json:"name"`
	LatestVersion int                `json:"latest_version"`
	Draft         *DraftInfo         `json:"draft,omitempty"`
	Published     *store.FlowVersion `json:"published,omitempty"`
}

// quoteETag renders a store ETag as an HTTP entity tag.
func quoteETag(etag string) string {
	if etag == "" {
		return ""
	}
	return `"` + etag + `"`
}

func draftInfo(d store.Draft) *DraftInfo {
	_, ds := checkSource(d.Flow, d.Source, "draft")
	return &DraftInfo{Flow: d.Flow, ETag: d.ETag, Revision: d.Revision, UpdatedAt: d.UpdatedAt, Source: d.Source,
		Valid: !hasErrors(ds), Diagnostics: ds}
}

// FlowNameParam is the path parameter naming a flow; the input of every
// operation on one flow embeds it. (Exported because huma reads only
// exported embedded structs.)
type FlowNameParam struct {
	Name string `path:"name" pattern:"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" doc:"Flow name"`
}

type listFlowsInput struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	Cursor string `query:"cursor" doc:"next_cursor of the previous page"`
}

type listFlowsOutput struct {
	Body struct {
		Flows      []store.FlowSummary `json:"flows"`
		NextCursor string              `json:"next_cursor,omitempty"`
	}
}

type flowOutput struct {
	ETag string `header:"ETag" doc:"The draft's entity tag, when the flow has a draft"`
	Body FlowDetail
}

type sourceBody struct {
	Source string `json:"source" minLength:"1" maxLength:"1048576" doc:"The flow's YAML, stored byte for byte"`
}

type createFlowInput struct {
	Body struct {
		Name   string `json:"name,omitempty" pattern:"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" doc:"Flow name; default: the name in the source"`
		Source string `json:"source" minLength:"1" maxLength:"1048576"`
	}
}

type draftOutput struct {
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     DraftInfo
}

type saveDraftInput struct {
	FlowNameParam
	IfMatch string `header:"If-Match" doc:"ETag of the draft being replaced. Required when the flow has a draft; a stale one answers 412 and nothing is written"`
	Body    sourceBody
}

type ifMatchInput struct {
	FlowNameParam
	IfMatch string `header:"If-Match" doc:"ETag of the draft; a stale one answers 412"`
}

type validateInput struct {
	Body struct {
		Source string `json:"source" minLength:"1" maxLength:"1048576"`
		Name   string `json:"name,omitempty" doc:"When set, the flow's name must equal it"`
	}
}

// ValidateResult is the outcome of validating a source.
type ValidateResult struct {
	Valid       bool         `json:"valid"`
	Flow        string       `json:"flow,omitempty"`
	Nodes       int          `json:"nodes"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

type validateOutput struct {
	Body ValidateResult
}

type graphInput struct {
	FlowNameParam
	Version string `query:"version" doc:"draft, latest or a version number; default: the draft if any, else latest"`
}

type graphSourceInput struct {
	Body struct {
		Source string `json:"source" minLength:"1" maxLength:"1048576"`
	}
}

type graphOutput struct {
	// The designer draws a flow from GET /flows/{name} and this graph
	// fetched side by side; the ETag tells it both read the same draft.
	ETag string `header:"ETag" doc:"The draft's entity tag, when the graph is of the draft"`
	Body Graph
}

type diffInput struct {
	FlowNameParam
	From    string `query:"from" default:"latest" doc:"draft, latest or a version number"`
	To      string `query:"to" default:"draft" doc:"draft, latest or a version number"`
	Context int    `query:"context" minimum:"0" maximum:"100" default:"3" doc:"Lines of context around each change"`
}

// Diff is a unified line diff of two sources of a flow.
type Diff struct {
	Flow      string `json:"flow"`
	From      string `json:"from"`
	To        string `json:"to"`
	Identical bool   `json:"identical"`
	Unified   string `json:"unified" doc:"Unified diff (empty when identical)"`
}

type diffOutput struct {
	Body Diff
}

func flowOp(id, method, path string, min Role, summary string) huma.Operation {
	return op(id, method, path, min, "Flows", summary)
}

// metaFlowProblem marks operations that answer FlowProblem on 422.
const metaFlowProblem = "voxflow.flowProblem"

// withFlowProblem marks an operation whose 422 is a FlowProblem;
// documentFlowProblems writes that into the OpenAPI document once huma has
// defined the operation's default error responses.
func (s *server) withFlowProblem(o huma.Operation) huma.Operation {
	o.Metadata[metaFlowProblem] = true
	return o
}

func documentFlowProblems(api huma.API) {
	oapi := api.OpenAPI()
	schema := oapi.Components.Schemas.Schema(reflect.TypeFor[FlowProblem](), true, "")
	for _, item := range oapi.Paths {
		for _, o := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if o == nil || o.Metadata[metaFlowProblem] != true {
				continue
			}
			o.Responses["422"] = &huma.Response{
				Description: "Invalid input, or an invalid flow: a FlowProblem whose errors carry field, line and column",
				Content:     map[string]*huma.MediaType{"application/problem+json": {Schema: schema}},
			}
		}
	}
}

func (s *server) registerFlows(api huma.API) {
	huma.Register(api, flowOp("list-flows", http.MethodGet, "/flows", RoleViewer, "List flows by name"),
		requires(s.needStore, s.listFlows))
	huma.Register(api, flowOp("get-flow", http.MethodGet, "/flows/{name}", RoleViewer,
		"Get a flow: its draft (with ETag header and diagnostics) and latest published version"),
		requires(s.needStore, s.getFlow))

	o := flowOp("create-flow", http.MethodPost, "/flows", RoleDesigner,
		"Create a flow with a draft (409 if the flow exists); the draft may be invalid, its diagnostics are returned")
	o.DefaultStatus = http.StatusCreated
	o.MaxBodyBytes = maxFlowBody
	huma.Register(api, o, requires(s.needStore, s.createFlow))

	o = flowOp("save-draft", http.MethodPut, "/flows/{name}/draft", RoleDesigner,
		"Create or replace a flow's draft. With a draft present, If-Match must carry its ETag: a stale one answers 412 and nothing is overwritten")
	o.MaxBodyBytes = maxFlowBody
	o.Errors = append(o.Errors, http.StatusPreconditionFailed, http.StatusPreconditionRequired)
	huma.Register(api, o, requires(s.needStore, s.saveDraft))

	o = flowOp("delete-draft", http.MethodDelete, "/flows/{name}/draft", RoleDesigner,
		"Discard a flow's draft (published versions stay); If-Match optional")
	o.DefaultStatus = http.StatusNoContent
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, requires(s.needStore, s.deleteDraft))

	o = flowOp("validate-flow", http.MethodPost, "/flows/validate", RoleViewer,
		"Validate a flow source; diagnostics carry line, column and YAML path (always 200)")
	o.MaxBodyBytes = maxFlowBody
	huma.Register(api, o, s.validateFlow)

	huma.Register(api, s.withFlowProblem(flowOp("get-flow-graph", http.MethodGet, "/flows/{name}/graph", RoleViewer,
		"The flow as nodes and edges (every exit) with positions from metadata.positions or an automatic layered layout")),
		requires(s.needStore, s.getFlowGraph))

	o = s.withFlowProblem(flowOp("graph-source", http.MethodPost, "/flows/graph", RoleViewer,
		"Draw an unsaved source as a graph, with its diagnostics (for validation as you type)"))
	o.MaxBodyBytes = maxFlowBody
	huma.Register(api, o, s.graphSource)

	huma.Register(api, flowOp("diff-flow", http.MethodGet, "/flows/{name}/diff", RoleViewer,
		"Unified line diff between two sources of a flow (versions, latest, draft)"),
		requires(s.needStore, s.diffFlow))

	s.registerVersions(api)
}

func (s *server) listFlows(ctx context.Context, in *listFlowsInput) (*listFlowsOutput, error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, badCursor(err)
	}
	all, err := s.cfg.Store.ListFlows(ctx)
	if err != nil {
		return nil, s.fail("list flows", err)
	}
	out := &listFlowsOutput{}
	out.Body.Flows = []store.FlowSummary{}
	for _, f := range all {
		if c.After != "" && f.Name <= c.After {
			continue
		}
		if len(out.Body.Flows) == in.Limit {
			out.Body.NextCursor = encodeCursor(cursor{After: out.Body.Flows[in.Limit-1].Name})
			break
		}
		out.Body.Flows = append(out.Body.Flows, f)
	}
	return out, nil
}

func (s *server) getFlow(ctx context.Context, in *FlowNameParam) (*flowOutput, error) {
	d, err := s.flowDetail(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	out := &flowOutput{Body: d}
	if d.Draft != nil {
		out.ETag = quoteETag(d.Draft.ETag)
	}
	return out, nil
}

func (s *server) createFlow(ctx context.Context, in *createFlowInput) (*draftOutput, error) {
	name := in.Body.Name
	if name == "" {
		f, _ := checkSource("", in.Body.Source, "body.source")
		if f == nil || f.Name == "" {
			return nil, huma.Error422UnprocessableEntity("no flow name: set name, or name: in the source",
				&huma.ErrorDetail{Message: "required when the source has no name", Location: "body.name"})
		}
		name = f.Name
	}
	unlock := s.locks.lock(name)
	defer unlock()
	if _, err := s.cfg.Store.Versions(ctx, name); err == nil {
		return nil, huma.Error409Conflict(fmt.Sprintf("flow %q already exists: update its draft with PUT %s/flows/%s/draft", name, Prefix, name))
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, s.fail("create flow", err)
	}
	d, err := s.cfg.Store.SaveDraft(ctx, name, in.Body.Source, "")
	if err != nil {
		return nil, s.fail("create flow", err)
	}
	return &draftOutput{ETag: quoteETag(d.ETag), Location: Prefix + "/flows/" + name, Body: *draftInfo(d)}, nil
}

func (s *server) saveDraft(ctx context.Context, in *saveDraftInput) (*draftOutput, error) {
	var (
		d   store.Draft
		err error
	)
	if in.IfMatch != "" {
		d, err = s.cfg.Store.SaveDraft(ctx, in.Name, in.Body.Source, in.IfMatch)
	} else {
		d, err = s.saveFirstDraft(ctx, in.Name, in.Body.Source)
	}
	if err != nil {
		return nil, s.fail("save draft", err)
	}
	return &draftOutput{ETag: quoteETag(d.ETag), Body: *draftInfo(d)}, nil
}

// saveFirstDraft saves a draft sent without If-Match, which only a flow
// without a draft may take (428 otherwise).
func (s *server) saveFirstDraft(ctx context.Context, name, src string) (store.Draft, error) {
	unlock := s.locks.lock(name)
	defer unlock()
	cur, err := s.cfg.Store.Draft(ctx, name)
	switch {
	case err == nil:
		return store.Draft{}, huma.Error428PreconditionRequired(fmt.Sprintf(
			"flow %q has a draft: send If-Match: %s (from GET %s/flows/%s) to replace it", name, quoteETag(cur.ETag), Prefix, name))
	case !errors.Is(err, store.ErrNotFound):
		return store.Draft{}, err
	}
	return s.cfg.Store.SaveDraft(ctx, name, src, "")
}

func (s *server) deleteDraft(ctx context.Context, in *ifMatchInput) (*struct{}, error) {
	if err := s.cfg.Store.DeleteDraft(ctx, in.Name, in.IfMatch); err != nil {
		return nil, s.fail("delete draft", err)
	}
	return nil, nil
}

func (s *server) validateFlow(ctx context.Context, in *validateInput) (*validateOutput, error) {
	f, ds := checkSource(in.Body.Name, in.Body.Source, "body.source")
	res := ValidateResult{Valid: f != nil && !hasErrors(ds), Diagnostics: ds}
	if f != nil {
		res.Flow, res.Nodes = f.Name, len(f.Nodes)
	}
	return &validateOutput{Body: res}, nil
}

func (s *server) getFlowGraph(ctx context.Context, in *graphInput) (*graphOutput, error) {
	ref := in.Version
	if ref == "" {
		ref = "current"
	}
	fs, err := s.storedSource(ctx, in.Name, ref)
	if err != nil {
		return nil, err
	}
	out, err := s.graphOf(in.Name, fs.label, fs.src)
	if err != nil {
		return nil, err
	}
	out.ETag = quoteETag(fs.etag)
	return out, nil
}

func (s *server) graphSource(ctx context.Context, in *graphSourceInput) (*graphOutput, error) {
	return s.graphOf("", "body.source", in.Body.Source)
}

func (s *server) diffFlow(ctx context.Context, in *diffInput) (*diffOutput, error) {
	fromLabel, from, err := s.sourceOf(ctx, in.Name, in.From)
	if err != nil {
		return nil, err
	}
	toLabel, to, err := s.sourceOf(ctx, in.Name, in.To)
	if err != nil {
		return nil, err
	}
	u := unifiedDiff(in.Name+"@"+fromLabel, in.Name+"@"+toLabel, from, to, in.Context)
	return &diffOutput{Body: Diff{Flow: in.Name, From: fromLabel, To: toLabel, Identical: from == to, Unified: u}}, nil
}

func (s *server) flowDetail(ctx context.Context, name string) (FlowDetail, error) {
	fd := FlowDetail{Name: name}
	d, derr := s.cfg.Store.Draft(ctx, name)
	if derr == nil {
		fd.Draft = draftInfo(d)
	} else if !errors.Is(derr, store.ErrNotFound) {
		return fd, s.fail("get flow", derr)
	}
	v, perr := s.cfg.Store.Published(ctx, name)
	if perr == nil {
		fd.Published, fd.LatestVersion = &v, v.Version
	} else if !errors.Is(perr, store.ErrNotFound) {
		return fd, s.fail("get flow", perr)
	}
	if fd.Draft == nil && fd.Published == nil {
		return fd, huma.Error404NotFound(fmt.Sprintf("flow %q not found", name))
	}
	return fd, nil
}

// sourceOf resolves a source reference of a flow: "draft", "latest" (or
// "published"), a version number, or "current" (the draft if any, else
// latest). It returns a label for it.
func (s *server) sourceOf(ctx context.Context, name, ref string) (string, string, error) {
	fs, err := s.storedSource(ctx, name, ref)
	return fs.label, fs.src, err
}

// storedSource is one stored source of a flow: its label ("draft" or "vN"),
// its text and, for the draft, its ETag.
type storedSource struct{ label, src, etag string }

// storedSource resolves a source reference as sourceOf does.
func (s *server) storedSource(ctx context.Context, name, ref string) (storedSource, error) {
	switch ref = strings.TrimSpace(ref); ref {
	case "draft":
		d, err := s.cfg.Store.Draft(ctx, name)
		if err != nil {
			return storedSource{}, s.fail("read draft", err)
		}
		return storedSource{"draft", d.Source, d.ETag}, nil
	case "latest", "published":
		v, err := s.cfg.Store.Published(ctx, name)
		if err != nil {
			return storedSource{}, s.fail("read latest version", err)
		}
		return storedSource{label: "v" + strconv.Itoa(v.Version), src: v.Source}, nil
	case "current":
		d, err := s.cfg.Store.Draft(ctx, name)
		if err == nil {
			return storedSource{"draft", d.Source, d.ETag}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return storedSource{}, s.fail("read draft", err)
		}
		return s.storedSource(ctx, name, "latest")
	}
	n, err := strconv.Atoi(strings.TrimPrefix(ref, "v"))
	if err != nil || n < 1 {
		return storedSource{}, huma.Error422UnprocessableEntity(fmt.Sprintf("bad source reference %q: want draft, latest or a version number", ref))
	}
	v, err := s.cfg.Store.Version(ctx, name, n)
	if err != nil {
		return storedSource{}, s.fail("read version", err)
	}
	return storedSource{label: "v" + strconv.Itoa(v.Version), src: v.Source}, nil
}

func (s *server) graphOf(name, label, src string) (*graphOutput, error) {
	f, ds := checkSource(name, src, label)
	if f == nil {
		return nil, invalidFlow("cannot draw "+label, ds)
	}
	return &graphOutput{Body: buildGraph(f, label, ds)}, nil
}
