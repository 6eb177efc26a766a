package designerapi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestCalls(t *testing.T) {
	e := newEnv(t)
	// List passes filters through.
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/calls?flow=f1&node=menu&running=true&limit=5")
	e.expect(w, http.StatusOK)
	cs := decode[struct{ Calls []CallSummary }](t, w)
	if len(cs.Calls) != 1 || cs.Calls[0].CallID != "c1" {
		t.Fatalf("calls %+v", cs)
	}
	if f := e.calls.lastFilter; f != (CallFilter{Flow: "f1", Node: "menu", Running: true, Limit: 5}) {
		t.Errorf("filter %+v", f)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/calls?limit=0"), http.StatusUnprocessableEntity)

	// Get: live state with a timeline.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/calls/c1")
	e.expect(w, http.StatusOK)
	d := decode[CallDetail](t, w)
	if d.Origin != "live" || d.Node != "menu" || len(d.Timeline) != 2 || d.Timeline[0].DurationMS != 60_000 ||
		d.Timeline[0].Exit != "next" || d.Timeline[1].DurationMS < 299_000 {
		t.Fatalf("detail %+v", d)
	}
	// A call the engine does not know: from its CDR.
	started := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	e.saveCDR("old", "f1", records.OutcomeCompleted, started)
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/calls/old")
	e.expect(w, http.StatusOK)
	d = decode[CallDetail](t, w)
	if d.Origin != "record" || !d.Ended || d.Outcome != "completed" || len(d.Timeline) != 2 || d.Timeline[1].DurationMS != 2000 {
		t.Fatalf("record detail %+v", d)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/calls/nope"), http.StatusNotFound)
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/calls/bad%20id"), http.StatusUnprocessableEntity)

	// Stuck.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/calls/stuck?older_than=2m")
	e.expect(w, http.StatusOK)
	if st := decode[struct{ Calls []StuckCall }](t, w); len(st.Calls) != 1 || st.Calls[0].CallID != "c1" || st.Calls[0].Reason == "" {
		t.Fatalf("stuck %+v", st)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/calls/stuck?older_than=soon"), http.StatusUnprocessableEntity)

	// Reset.
	w = e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/reset", map[string]any{"node": "hello"})
	e.expect(w, http.StatusOK)
	if r := decode[ResetResult](t, w); r.RunID != "r-new" || r.Node != "hello" {
		t.Fatalf("reset %+v", r)
	}
	if len(e.calls.resets) != 1 || !strings.Contains(e.calls.resets[0], "key:test-operator") {
		t.Errorf("reset reason %v does not name the operator", e.calls.resets)
	}
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/reset", map[string]any{"node": "never"}), http.StatusUnprocessableEntity)
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/zz/reset", map[string]any{"node": "hello"}), http.StatusNotFound)
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/reset", map[string]any{}), http.StatusUnprocessableEntity)
	e.expect(e.do(RolePublisher, http.MethodPost, Prefix+"/calls/c1/reset", map[string]any{"node": "hello"}), http.StatusForbidden)

	// Terminate (body optional).
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/terminate"), http.StatusNoContent)
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/terminate", map[string]any{"reason": "test"}), http.StatusNoContent)
	if e.calls.terminated["c1"] != "test" {
		t.Errorf("terminate reason %q", e.calls.terminated["c1"])
	}
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/zz/terminate"), http.StatusNotFound)

	// Replay check.
	w = e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/replay")
	e.expect(w, http.StatusOK)
	if r := decode[ReplayResult](t, w); !r.Deterministic || r.Events != 42 {
		t.Fatalf("replay %+v", r)
	}
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/zz/replay"), http.StatusNotFound)
}

// TestNoTemporal: without CallOps or Simulator, those operations answer
// 503 and get-call still reads CDRs.
func TestNoTemporal(t *testing.T) {
	e := newEnv(t)
	_, api := New(Config{Store: e.store, Auth: e.auth})
	e2 := *e
	e2.api = wrapQuiet(t, api)
	e2.expect(e2.do(RoleViewer, http.MethodGet, Prefix+"/calls"), http.StatusServiceUnavailable)
	e2.expect(e2.do(RoleDesigner, http.MethodPost, Prefix+"/simulate", map[string]any{"flow": "x"}), http.StatusServiceUnavailable)
	e.saveCDR("k1", "f1", "completed", time.Now().UTC())
	e2.expect(e2.do(RoleViewer, http.MethodGet, Prefix+"/calls/k1"), http.StatusOK)
	e2.expect(e2.do(RoleViewer, http.MethodGet, Prefix+"/metrics/summary"), http.StatusOK)
}

// TestNoStore: without a store, every operation that needs one answers 503
// with the same problem once its input is valid; the others still work (an
// unsaved source simulates, get-call asks the engine).
func TestNoStore(t *testing.T) {
	e := newEnv(t)
	fx := setupRoleFixtures(t, e)
	_, api := New(Config{Auth: e.auth, Calls: e.calls, Sim: e.sim})
	e2 := *e
	e2.api = wrapQuiet(t, api)
	needStore := map[string]bool{
		"list-flows": true, "get-flow": true, "create-flow": true, "save-draft": true, "delete-draft": true,
		"get-flow-graph": true, "diff-flow": true, "publish-flow": true, "list-versions": true, "get-version": true,
		"rollback-flow": true, "list-numbers": true, "bind-number": true, "unbind-number": true,
		"search-cdrs": true, "get-cdr": true, "export-cdrs": true, "start-simulation": true,
		"list-queues": true, "get-queue": true, "put-queue": true, "delete-queue": true, "list-agents": true,
		"get-agent": true, "set-agent-profile": true, "set-agent-state": true, "list-callbacks": true, "schedule-callback": true,
		"board-history": true, "list-audit": true,
	}
	for _, id := range campaignOperationIDs {
		needStore[id] = true
	}
	const problem = `{"$schema":"http://localhost/schemas/ErrorModel.json","title":"Service Unavailable","status":503,` +
		`"detail":"the store is not configured"}`
	cases := roleCases(e, fx)
	for _, o := range operations(e2.api) {
		c := cases[o.OperationID]
		path := c.path(o, RoleAdmin)
		var args []any
		if c.body != nil {
			args = append(args, c.body)
		}
		w := e2.doCase(c, RoleAdmin, o.Method, path, args...)
		got := strings.TrimSpace(w.Body.String())
		switch {
		case needStore[o.OperationID] && (w.Code != http.StatusServiceUnavailable || got != problem):
			t.Errorf("%s: %d %s, want 503 %s", o.OperationID, w.Code, got, problem)
		case !needStore[o.OperationID] && strings.Contains(got, "store is not configured"):
			t.Errorf("%s needs no store but answered %d %s", o.OperationID, w.Code, got)
		}
	}
	e2.expect(e2.do(RoleDesigner, http.MethodPost, Prefix+"/simulate", map[string]any{"source": flowSrc("x")}), http.StatusCreated)
	e2.expect(e2.do(RoleViewer, http.MethodGet, Prefix+"/calls/c1"), http.StatusOK)
	// Input is validated before the store is looked for.
	e2.expect(e2.do(RoleViewer, http.MethodGet, Prefix+"/flows/-bad-name"), http.StatusUnprocessableEntity)
}

func TestCDRSearchAndExport(t *testing.T) {
	e := newEnv(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 7 {
		outcome := "completed"
		if i%2 == 1 {
			outcome = "caller_hangup"
		}
		e.saveCDR(fmt.Sprintf("call-%d", i), []string{"f1", "f2"}[i%2], outcome, base.Add(time.Duration(i)*time.Minute))
	}
	// Pages of 3, newest first.
	var ids []string
	cursor := ""
	for range 5 {
		path := Prefix + "/cdrs?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		w := e.do(RoleViewer, http.MethodGet, path)
		e.expect(w, http.StatusOK)
		page := decode[struct {
			CDRs       []records.CDR `json:"cdrs"`
			NextCursor string        `json:"next_cursor"`
		}](t, w)
		for _, r := range page.CDRs {
			ids = append(ids, r.CallID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if got := strings.Join(ids, ","); got != "call-6,call-5,call-4,call-3,call-2,call-1,call-0" {
		t.Fatalf("pages: %s", got)
	}
	// Filters.
	after := base.Add(2 * time.Minute).Format(time.RFC3339)
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs?flow=f1&outcome=completed&started_after="+after)
	e.expect(w, http.StatusOK)
	if page := decode[struct{ CDRs []records.CDR }](t, w); len(page.CDRs) != 3 || page.CDRs[2].CallID != "call-2" {
		t.Fatalf("filtered %+v", page)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs?cursor=garbage"), http.StatusUnprocessableEntity)
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs?started_after=yesterday"), http.StatusUnprocessableEntity)
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/call-3"), http.StatusOK)
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/nope"), http.StatusNotFound)

	// CSV export of one flow.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/export?format=csv&flow=f2")
	e.expect(w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(CSVColumns, ",") || rows[1][0] != "call-5" ||
		rows[1][12] != "hello>bye" || rows[1][10] != "3000" {
		t.Fatalf("csv %q", rows)
	}
	// JSON export, capped.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/export?format=json&max=5")
	e.expect(w, http.StatusOK)
	var recs []records.CDR
	if err := json.Unmarshal(w.Body.Bytes(), &recs); err != nil {
		t.Fatalf("json export %q: %v", w.Body.String(), err)
	}
	if len(recs) != 5 || recs[0].CallID != "call-6" || !strings.Contains(w.Header().Get("Content-Disposition"), ".json") {
		t.Fatalf("json export %d records, first %+v", len(recs), recs[0])
	}
	// Empty JSON export is still an array.
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/export?format=json&flow=none")
	e.expect(w, http.StatusOK)
	if err := json.Unmarshal(w.Body.Bytes(), &recs); err != nil || len(recs) != 0 {
		t.Fatalf("empty export %q: %v", w.Body.String(), err)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/export?format=xml"), http.StatusUnprocessableEntity)
}

func TestMetricsSummary(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	e.saveCDR("m1", "f1", "completed", now.Add(-10*time.Minute))
	e.saveCDR("m2", "f1", "caller_hangup", now.Add(-20*time.Minute))
	e.saveCDR("m3", "f9", "completed", now.Add(-3*time.Hour)) // outside the window
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/metrics/summary")
	e.expect(w, http.StatusOK)
	m := decode[MetricsSummary](t, w)
	if m.Running != 3 || m.Ended != 2 || len(m.Flows) != 2 {
		t.Fatalf("summary %+v", m)
	}
	f1 := m.Flows[0]
	if f1.Flow != "f1" || f1.Running != 2 || f1.Ended != 2 || f1.Outcome["caller_hangup"] != 1 ||
		len(f1.Nodes) != 2 || f1.Nodes[0] != (NodeCount{Node: "hello", Running: 1}) {
		t.Fatalf("f1 %+v", f1)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/metrics/summary?window=-1h"), http.StatusUnprocessableEntity)
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id, event string
	data      SimEvent
}

func parseSSE(t *testing.T, body string) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &cur.data); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		}
	}
	return out
}

func TestSimulate(t *testing.T) {
	e := newEnv(t)
	e.publishFlow("f1")
	w := e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate", map[string]any{"flow": "f1", "from": "+1555", "vars": map[string]any{"x": 1}})
	e.expect(w, http.StatusCreated)
	st := decode[SimStarted](t, w)
	if st.Flow != "f1" || st.Source != "v1" || st.EventsURL != Prefix+"/simulate/"+st.CallID+"/events" {
		t.Fatalf("started %+v", st)
	}
	req := e.sim.reqs[0]
	if req.CallID != st.CallID || req.Flow.Version != 1 || req.From != "+1555" || req.To != "simulator" || req.Vars["x"] != float64(1) {
		t.Fatalf("request %+v", req)
	}
	e.expect(e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate/"+st.CallID+"/input", map[string]any{"input": "1"}), http.StatusNoContent)

	// The stream replays everything and ends with end.
	w = e.do(RoleDesigner, http.MethodGet, st.EventsURL)
	e.expect(w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	evs := parseSSE(t, w.Body.String())
	var kinds []string
	for i, ev := range evs {
		kinds = append(kinds, ev.event+":"+ev.data.Node)
		if ev.id != fmt.Sprint(i+1) || ev.data.ID != i+1 || ev.data.Kind != ev.event {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
	want := "node:hello,prompt:hello,node:menu,prompt:menu,listen:menu,input:menu,node:bye,hangup:bye,end:"
	if got := strings.Join(kinds, ","); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	if end := evs[len(evs)-1].data; end.Outcome != "completed" || len(end.Path) != 3 {
		t.Errorf("end %+v", end)
	}
	if evs[2].data.Text != "hello" {
		t.Errorf("node change does not name the previous node: %+v", evs[2].data)
	}
	// Resume after event 6 (Last-Event-ID) and with ?after=.
	w = e.do(RoleDesigner, http.MethodGet, st.EventsURL, "Last-Event-ID: 6")
	if evs := parseSSE(t, w.Body.String()); len(evs) != 3 || evs[0].id != "7" {
		t.Fatalf("resumed %+v", evs)
	}
	w = e.do(RoleDesigner, http.MethodGet, st.EventsURL+"?after=8")
	if evs := parseSSE(t, w.Body.String()); len(evs) != 1 || evs[0].event != "end" {
		t.Fatalf("resumed %+v", evs)
	}
	// Snapshot.
	w = e.do(RoleDesigner, http.MethodGet, Prefix+"/simulate/"+st.CallID)
	e.expect(w, http.StatusOK)
	if s := decode[SimStatus](t, w); !s.Done || len(s.Events) != 9 {
		t.Fatalf("status %+v", s)
	}
	// Input after the end: 409; unknown call: 404.
	e.expect(e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate/"+st.CallID+"/input", map[string]any{"input": "1"}), http.StatusConflict)
	e.expect(e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate/nope/input", map[string]any{"input": "1"}), http.StatusNotFound)
	e.expect(e.do(RoleDesigner, http.MethodGet, Prefix+"/simulate/nope/events"), http.StatusNotFound)
}

func TestSimulateSources(t *testing.T) {
	e := newEnv(t)
	e.publishFlow("f1")
	tests := []struct {
		name  string
		body  map[string]any
		want  int
		label string
	}{
		{"unsaved source", map[string]any{"source": flowSrc("tmp")}, http.StatusCreated, "body"},
		{"explicit version", map[string]any{"flow": "f1", "version": "1"}, http.StatusCreated, "v1"},
		{"no draft", map[string]any{"flow": "f1", "version": "draft"}, http.StatusNotFound, ""},
		{"unknown flow", map[string]any{"flow": "nope"}, http.StatusNotFound, ""},
		{"nothing", map[string]any{}, http.StatusUnprocessableEntity, ""},
		{"invalid source", map[string]any{"source": badFlowSrc("tmp")}, http.StatusUnprocessableEntity, ""},
		{"start fails", map[string]any{"source": flowSrc("tmp") + "# fail-start\n"}, http.StatusInternalServerError, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate", tc.body)
			e.expect(w, tc.want)
			if tc.label != "" {
				if st := decode[SimStarted](t, w); st.Source != tc.label {
					t.Errorf("source %q, want %q", st.Source, tc.label)
				}
			}
			if tc.name == "invalid source" {
				if p := decode[FlowProblem](t, w); len(p.Errors) == 0 || p.Errors[0].Line != 6 {
					t.Errorf("problem %+v", p)
				}
			}
		})
	}
}

// TestSimStreamLive: a subscriber waiting on a running call gets events as
// they happen.
func TestSimStreamLive(t *testing.T) {
	c := &simCall{id: "x", changed: make(chan struct{})}
	c.append(SimEvent{Kind: SimPrompt, Node: "a", Text: "hi"})
	evs, done, changed := c.since(0)
	if len(evs) != 2 || done {
		t.Fatalf("%+v %v", evs, done)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.append(SimEvent{Kind: SimEnd, Outcome: "completed"})
	}()
	select {
	case <-changed:
	case <-time.After(2 * time.Second):
		t.Fatal("no wake-up")
	}
	evs, done, _ = c.since(2)
	if len(evs) != 1 || !done || evs[0].ID != 3 {
		t.Fatalf("%+v %v", evs, done)
	}
	c.append(SimEvent{Kind: SimPrompt, Node: "late"}) // after end: dropped
	if evs, _, _ := c.since(0); len(evs) != 3 {
		t.Fatalf("event after end kept: %+v", evs)
	}
}
