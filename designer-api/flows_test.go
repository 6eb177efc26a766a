package designerapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/voxflow/voxflow/store"
)

func TestCreateGetSaveDraft(t *testing.T) {
	e := newEnv(t)
	// Create: name taken from the source.
	w := e.do(RoleDesigner, http.MethodPost, Prefix+"/flows", map[string]any{"source": flowSrc("sales")})
	e.expect(w, http.StatusCreated)
	d := decode[DraftInfo](t, w)
	if d.Flow != "sales" || !d.Valid || d.ETag == "" || w.Header().Get("ETag") != `"`+d.ETag+`"` {
		t.Fatalf("created %+v, ETag header %q", d, w.Header().Get("ETag"))
	}
	// Create again: 409.
	e.expect(e.do(RoleDesigner, http.MethodPost, Prefix+"/flows", map[string]any{"source": flowSrc("sales")}), http.StatusConflict)

	// Get: ETag header and draft.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/flows/sales")
	e.expect(w, http.StatusOK)
	fd := decode[FlowDetail](t, w)
	if fd.Draft == nil || fd.Draft.Source != flowSrc("sales") || w.Header().Get("ETag") != `"`+d.ETag+`"` || fd.Published != nil {
		t.Fatalf("get: %+v etag %q", fd, w.Header().Get("ETag"))
	}

	// Save without If-Match while a draft exists: 428, nothing written.
	edited := flowSrc("sales") + "# v2\n"
	e.expect(e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/sales/draft", map[string]any{"source": edited}), http.StatusPreconditionRequired)
	// Save with the right ETag.
	w = e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/sales/draft", "If-Match: "+w.Header().Get("ETag"), map[string]any{"source": edited})
	e.expect(w, http.StatusOK)
	d2 := decode[DraftInfo](t, w)
	if d2.ETag == d.ETag || d2.Source != edited {
		t.Fatalf("saved %+v", d2)
	}
	// Save with the stale ETag: 412 and the draft is untouched.
	w = e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/sales/draft", `If-Match: "`+d.ETag+`"`, map[string]any{"source": "name: sales\n# lost\n"})
	e.expect(w, http.StatusPreconditionFailed)
	if !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
		t.Errorf("412 content type %q", w.Header().Get("Content-Type"))
	}
	cur, err := e.store.Draft(context.Background(), "sales")
	if err != nil || cur.Source != edited {
		t.Fatalf("draft after stale save: %q, %v", cur.Source, err)
	}
	// An invalid draft is saved, with diagnostics.
	w = e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/sales/draft", `If-Match: "`+d2.ETag+`"`, map[string]any{"source": badFlowSrc("sales")})
	e.expect(w, http.StatusOK)
	if d3 := decode[DraftInfo](t, w); d3.Valid || len(d3.Diagnostics) == 0 || d3.Diagnostics[0].Line == 0 {
		t.Fatalf("invalid draft: %+v", d3)
	}
	// PUT on a flow without a draft creates it without If-Match.
	e.expect(e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/fresh/draft", map[string]any{"source": flowSrc("fresh")}), http.StatusOK)
}

func TestFlowBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{"unknown flow", http.MethodGet, "/flows/nope", nil, http.StatusNotFound},
		{"bad name", http.MethodGet, "/flows/bad%20name", nil, http.StatusUnprocessableEntity},
		{"empty source", http.MethodPost, "/flows", map[string]any{"name": "x", "source": ""}, http.StatusUnprocessableEntity},
		{"no name anywhere", http.MethodPost, "/flows", map[string]any{"source": "entry: a\n"}, http.StatusUnprocessableEntity},
		{"missing body", http.MethodPut, "/flows/x/draft", nil, http.StatusBadRequest},
		{"delete missing draft", http.MethodDelete, "/flows/nope/draft", nil, http.StatusNotFound},
		{"publish without draft", http.MethodPost, "/flows/nope/publish", nil, http.StatusNotFound},
		{"bad version ref", http.MethodGet, "/flows/nope/diff?from=abc", nil, http.StatusUnprocessableEntity},
		{"version zero", http.MethodGet, "/flows/nope/versions/0", nil, http.StatusUnprocessableEntity},
		{"bad cursor", http.MethodGet, "/flows?cursor=!!", nil, http.StatusUnprocessableEntity},
		{"limit too big", http.MethodGet, "/flows?limit=5000", nil, http.StatusUnprocessableEntity},
		{"unknown versions", http.MethodGet, "/flows/nope/versions", nil, http.StatusNotFound},
		{"rollback unknown", http.MethodPost, "/flows/nope/rollback", map[string]any{"version": 1}, http.StatusNotFound},
		{"graph of garbage", http.MethodPost, "/flows/graph", map[string]any{"source": "::: [\n"}, http.StatusUnprocessableEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var args []any
			if tc.body != nil {
				args = append(args, tc.body)
			}
			w := e.do(RoleAdmin, tc.method, Prefix+tc.path, args...)
			if w.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.path, w.Code, tc.want, w.Body.String())
			}
			if !strings.Contains(w.Header().Get("Content-Type"), "problem+json") {
				t.Errorf("content type %q, want problem details", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestSourceSizeLimit(t *testing.T) {
	e := newEnv(t)
	big := flowSrc("big") + "# " + strings.Repeat("x", MaxSourceBytes) + "\n"
	w := e.do(RoleDesigner, http.MethodPost, Prefix+"/flows", map[string]any{"source": big})
	if w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized source: %d", w.Code)
	}
	huge := strings.NewReader(`{"source":"` + strings.Repeat("y", 3*MaxSourceBytes) + `"}`)
	w = e.do(RoleDesigner, http.MethodPost, Prefix+"/flows", "Content-Type: application/json", huge)
	e.expect(w, http.StatusRequestEntityTooLarge)
}

// TestConcurrentDraftEdits: many editors holding the same ETag save at
// once; exactly one wins, every other one gets 412, and the stored draft is
// the winner's.
func TestConcurrentDraftEdits(t *testing.T) {
	e := newEnv(t)
	w := e.do(RoleDesigner, http.MethodPost, Prefix+"/flows", map[string]any{"source": flowSrc("shared")})
	e.expect(w, http.StatusCreated)
	etag := w.Header().Get("ETag")
	const editors = 8
	codes := make([]int, editors)
	var wg sync.WaitGroup
	for i := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := flowSrc("shared") + fmt.Sprintf("# editor %d\n", i)
			codes[i] = e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/shared/draft", "If-Match: "+etag, map[string]any{"source": src}).Code
		}()
	}
	wg.Wait()
	winner := -1
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			if winner >= 0 {
				t.Fatalf("editors %d and %d both saved over the same ETag", winner, i)
			}
			winner = i
		case http.StatusPreconditionFailed:
		default:
			t.Fatalf("editor %d: %d", i, c)
		}
	}
	if winner < 0 {
		t.Fatal("nobody saved")
	}
	d, err := e.store.Draft(context.Background(), "shared")
	if err != nil || !strings.HasSuffix(d.Source, fmt.Sprintf("# editor %d\n", winner)) {
		t.Fatalf("stored draft %q is not the winner's (%d): %v", d.Source, winner, err)
	}
}

func TestValidate(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		body      map[string]any
		valid     bool
		wantLine  int
		wantField string
	}{
		{"valid", map[string]any{"source": flowSrc("v")}, true, 0, ""},
		{"dangling next", map[string]any{"source": badFlowSrc("v")}, false, 6, "$.nodes.hello.next"},
		{"name mismatch", map[string]any{"source": flowSrc("v"), "name": "other"}, false, 1, "$.name"},
		{"yaml syntax", map[string]any{"source": "name: v\nentry: [\n"}, false, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(RoleViewer, http.MethodPost, Prefix+"/flows/validate", tc.body)
			e.expect(w, http.StatusOK)
			r := decode[ValidateResult](t, w)
			if r.Valid != tc.valid {
				t.Fatalf("valid = %v: %+v", r.Valid, r)
			}
			if tc.valid {
				if r.Nodes != 3 || r.Flow != "v" {
					t.Errorf("result %+v", r)
				}
				return
			}
			var hit *Diagnostic
			for i, d := range r.Diagnostics {
				if d.Severity == "error" && (tc.wantField == "" || d.Field == tc.wantField) {
					hit = &r.Diagnostics[i]
					break
				}
			}
			if hit == nil || hit.Line != tc.wantLine || hit.Column == 0 || hit.Location != "body.source" {
				t.Fatalf("diagnostics %+v, want an error at line %d field %q", r.Diagnostics, tc.wantLine, tc.wantField)
			}
			if tc.wantField == "$.nodes.hello.next" && hit.Node != "hello" {
				t.Errorf("node %q, want hello", hit.Node)
			}
		})
	}
}

func TestPublishVersionsRollback(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Invalid draft: 422 with line, column and field; nothing published.
	if _, err := e.store.SaveDraft(ctx, "pay", badFlowSrc("pay"), ""); err != nil {
		t.Fatal(err)
	}
	w := e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/publish")
	e.expect(w, http.StatusUnprocessableEntity)
	p := decode[FlowProblem](t, w)
	if p.Status != 422 || len(p.Errors) == 0 || p.Errors[0].Line != 6 || p.Errors[0].Column == 0 ||
		p.Errors[0].Field != "$.nodes.hello.next" || p.Errors[0].Location != "draft" || p.Title == "" {
		t.Fatalf("problem %+v", p)
	}
	if !strings.Contains(w.Header().Get("Content-Type"), "application/problem+json") {
		t.Errorf("content type %q", w.Header().Get("Content-Type"))
	}
	if _, err := e.store.Published(ctx, "pay"); err == nil {
		t.Fatal("an invalid draft was published")
	}

	// Fix and publish with If-Match.
	d, err := e.store.SaveDraft(ctx, "pay", flowSrc("pay"), "")
	if err != nil {
		t.Fatal(err)
	}
	e.expect(e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/publish", `If-Match: "stale"`), http.StatusPreconditionFailed)
	w = e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/publish", `If-Match: "`+d.ETag+`"`, map[string]any{"note": "first"})
	e.expect(w, http.StatusOK)
	r := decode[PublishResult](t, w)
	if r.Version.Version != 1 || r.Unchanged || r.Version.Note != "first" || r.Version.PublishedBy != "key:test-publisher" {
		t.Fatalf("publish: %+v", r)
	}
	if _, err := e.store.Draft(ctx, "pay"); err == nil {
		t.Fatal("draft kept after publish")
	}
	// Version 2, then the same source again: unchanged.
	for i, src := range []string{flowSrc("pay") + "# two\n", flowSrc("pay") + "# two\n"} {
		if _, err := e.store.SaveDraft(ctx, "pay", src, ""); err != nil {
			t.Fatal(err)
		}
		w = e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/publish")
		e.expect(w, http.StatusOK)
		if r := decode[PublishResult](t, w); r.Version.Version != 2 || r.Unchanged != (i == 1) {
			t.Fatalf("publish %d: %+v", i, r)
		}
	}

	// Versions, newest first, paginated.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/flows/pay/versions?limit=1")
	e.expect(w, http.StatusOK)
	vs := decode[struct {
		Versions   []VersionInfo `json:"versions"`
		NextCursor string        `json:"next_cursor"`
	}](t, w)
	if len(vs.Versions) != 1 || vs.Versions[0].Version != 2 || vs.NextCursor == "" {
		t.Fatalf("page 1: %+v", vs)
	}
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/flows/pay/versions?limit=1&cursor="+vs.NextCursor)
	e.expect(w, http.StatusOK)
	vs = decode[struct {
		Versions   []VersionInfo `json:"versions"`
		NextCursor string        `json:"next_cursor"`
	}](t, w)
	if len(vs.Versions) != 1 || vs.Versions[0].Version != 1 || vs.NextCursor != "" {
		t.Fatalf("page 2: %+v", vs)
	}
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/flows/pay/versions/1")
	e.expect(w, http.StatusOK)
	if v := decode[store.FlowVersion](t, w); v.Source != flowSrc("pay") {
		t.Fatalf("version 1 source %q", v.Source)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/flows/pay/versions/9"), http.StatusNotFound)

	// Diff v1 -> v2.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/flows/pay/diff?from=1&to=2")
	e.expect(w, http.StatusOK)
	df := decode[Diff](t, w)
	if df.Identical || !strings.Contains(df.Unified, "+# two\n") || !strings.HasPrefix(df.Unified, "--- pay@v1\n+++ pay@v2\n") {
		t.Fatalf("diff %+v", df)
	}

	// Rollback to 1: version 3 with rollback_of 1; again: unchanged.
	w = e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/rollback", map[string]any{"version": 1})
	e.expect(w, http.StatusOK)
	if r := decode[PublishResult](t, w); r.Version.Version != 3 || r.Version.RollbackOf != 1 || r.Unchanged {
		t.Fatalf("rollback: %+v", r)
	}
	w = e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/rollback", map[string]any{"version": 1})
	e.expect(w, http.StatusOK)
	if r := decode[PublishResult](t, w); !r.Unchanged || r.Version.Version != 3 {
		t.Fatalf("second rollback: %+v", r)
	}
	e.expect(e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/rollback", map[string]any{"version": 7}), http.StatusNotFound)

	// Get shows the latest published version.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/flows/pay")
	e.expect(w, http.StatusOK)
	if fd := decode[FlowDetail](t, w); fd.LatestVersion != 3 || fd.Draft != nil || w.Header().Get("ETag") != "" {
		t.Fatalf("flow %+v", fd)
	}
}

func TestDeleteDraft(t *testing.T) {
	e := newEnv(t)
	e.publishFlow("keep")
	d, err := e.store.SaveDraft(context.Background(), "keep", flowSrc("keep")+"# wip\n", "")
	if err != nil {
		t.Fatal(err)
	}
	e.expect(e.do(RoleDesigner, http.MethodDelete, Prefix+"/flows/keep/draft", `If-Match: "nope"`), http.StatusPreconditionFailed)
	e.expect(e.do(RoleDesigner, http.MethodDelete, Prefix+"/flows/keep/draft", `If-Match: "`+d.ETag+`"`), http.StatusNoContent)
	e.expect(e.do(RoleDesigner, http.MethodDelete, Prefix+"/flows/keep/draft"), http.StatusNotFound)
	// The published version stays.
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/flows/keep/versions/1"), http.StatusOK)
}

func TestListFlowsPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.publishFlow(fmt.Sprintf("flow-%d", i))
	}
	var names []string
	cursor := ""
	for page := 0; page < 10; page++ {
		path := Prefix + "/flows?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		w := e.do(RoleViewer, http.MethodGet, path)
		e.expect(w, http.StatusOK)
		out := decode[struct {
			Flows      []store.FlowSummary `json:"flows"`
			NextCursor string              `json:"next_cursor"`
		}](t, w)
		for _, f := range out.Flows {
			names = append(names, f.Name)
		}
		if cursor = out.NextCursor; cursor == "" {
			break
		}
	}
	if got := strings.Join(names, ","); got != "flow-0,flow-1,flow-2,flow-3,flow-4" {
		t.Fatalf("pages gave %s", got)
	}
}

func TestGraph(t *testing.T) {
	e := newEnv(t)
	src := flowSrc("g") + "metadata:\n  positions:\n    menu: {x: 500, y: 20.5}\n"
	if _, err := e.store.SaveDraft(context.Background(), "g", src, ""); err != nil {
		t.Fatal(err)
	}
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/flows/g/graph")
	e.expect(w, http.StatusOK)
	g := decode[Graph](t, w)
	if g.Source != "draft" || g.Entry != "hello" || !g.Valid || len(g.Nodes) != 3 {
		t.Fatalf("graph %+v", g)
	}
	byID := map[string]GraphNode{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	if m := byID["menu"]; m.Placed != "metadata" || m.X != 500 || m.Y != 20.5 || m.Type != "menu" {
		t.Errorf("menu %+v", m)
	}
	if h := byID["hello"]; h.Placed != "auto" || h.X != 0 || h.Y != 0 || !h.Entry {
		t.Errorf("hello %+v", h)
	}
	if b := byID["bye"]; b.Placed != "auto" || b.Y != 2*layoutRowHeight {
		t.Errorf("bye %+v", b)
	}
	edges := map[string]bool{}
	for _, ed := range g.Edges {
		edges[ed.From+">"+ed.To+":"+ed.Label] = true
	}
	for _, want := range []string{"hello>menu:next", "menu>bye:option 1", "menu>bye:on_failure"} {
		if !edges[want] {
			t.Errorf("missing edge %s in %v", want, edges)
		}
	}
	// An unsaved invalid source: graph with dangling edge and per-node errors.
	w = e.do(RoleViewer, http.MethodPost, Prefix+"/flows/graph", map[string]any{"source": badFlowSrc("g")})
	e.expect(w, http.StatusOK)
	g = decode[Graph](t, w)
	if g.Valid || len(g.Edges) != 1 || !g.Edges[0].Dangling || g.Nodes[0].Errors == 0 {
		t.Fatalf("invalid graph %+v", g)
	}
	// A version that does not exist.
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/flows/g/graph?version=4"), http.StatusNotFound)
}

// TestGraphETag: a graph of the draft carries the draft's ETag (the one GET
// /flows/{name} sends), so the designer knows both describe the same
// draft; a graph of a version carries none.
func TestGraphETag(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.PublishSource(ctx, "g", flowSrc("g"), "test", "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SaveDraft(ctx, "g", flowSrc("g")+"# draft\n", ""); err != nil {
		t.Fatal(err)
	}
	flow := e.do(RoleViewer, http.MethodGet, Prefix+"/flows/g")
	e.expect(flow, http.StatusOK)
	for _, c := range []struct{ query, source, etag string }{
		{"", "draft", flow.Header().Get("ETag")},
		{"?version=draft", "draft", flow.Header().Get("ETag")},
		{"?version=latest", "v1", ""},
		{"?version=1", "v1", ""},
	} {
		w := e.do(RoleViewer, http.MethodGet, Prefix+"/flows/g/graph"+c.query)
		e.expect(w, http.StatusOK)
		if g := decode[Graph](t, w); g.Source != c.source || w.Header().Get("ETag") != c.etag {
			t.Errorf("graph%s: source %q, ETag %q; want %q, %q", c.query, g.Source, w.Header().Get("ETag"), c.source, c.etag)
		}
	}
	if flow.Header().Get("ETag") == "" {
		t.Error("GET /flows/g: no ETag")
	}
}
