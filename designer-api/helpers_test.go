package designerapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/humatest"
	"golang.org/x/crypto/bcrypt"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

const validFlow = `name: %s
entry: hello
nodes:
  hello:
    type: play
    say: Hello
    next: menu
  menu:
    type: menu
    prompt: Press 1 for goodbye
    options:
      "1": bye
    on_failure: bye
  bye:
    type: hangup
`

// invalidFlowSrc has one error: an unknown next target on line 6.
const invalidFlowSrc = `name: %s
entry: hello
nodes:
  hello:
    type: play
    next: nowhere
    say: Hi
`

func flowSrc(name string) string    { return fmt.Sprintf(validFlow, name) }
func badFlowSrc(name string) string { return fmt.Sprintf(invalidFlowSrc, name) }

// testEnv is an API over a SQLite store in a temp dir, with fakes for
// Temporal-facing parts and one API key per role, named test-ROLE (the
// agent role's key acts for agent test-agent).
type testEnv struct {
	t     *testing.T
	api   humatest.TestAPI
	store *store.Store
	auth  *Auth
	calls *fakeCalls
	sim   *fakeSim
	route *fakeRouting
	keys  map[Role]string
	now   time.Time
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	auth, err := NewAuth(st, AuthOptions{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: st, auth: auth, calls: newFakeCalls(), sim: newFakeSim(), route: &fakeRouting{},
		keys: map[Role]string{}}
	_, api := New(Config{Store: st, Calls: e.calls, Sim: e.sim, Routing: e.route, Auth: auth, Campaigns: newFakeCampaigns(st),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Origins: []string{testOrigin}})
	e.api = humatest.Wrap(quietTB{t}, api)
	for _, r := range Roles {
		key, _, err := auth.CreateKey(ctx, "test-"+string(r), r, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.keys[r] = key
	}
	return e
}

func wrapQuiet(t *testing.T, api huma.API) humatest.TestAPI { return humatest.Wrap(quietTB{t}, api) }

// quietTB keeps humatest's request dumps out of test logs.
type quietTB struct{ t *testing.T }

func (q quietTB) Helper()             { q.t.Helper() }
func (q quietTB) Log(...any)          {}
func (q quietTB) Logf(string, ...any) {}

// do sends a request as role ("" = anonymous). args are humatest args:
// "Header: value" strings, and a body (struct/map/reader).
func (e *testEnv) do(role Role, method, path string, args ...any) *httptest.ResponseRecorder {
	e.t.Helper()
	if role != "" {
		args = append(args, "Authorization: Bearer "+e.keys[role])
	}
	return e.api.Do(method, path, args...)
}

func (e *testEnv) expect(w *httptest.ResponseRecorder, status int) {
	e.t.Helper()
	if w.Code != status {
		e.t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body.String())
	}
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, w.Body.String(), err)
	}
	return v
}

// publishFlow stores and publishes a valid flow.
func (e *testEnv) publishFlow(name string) store.FlowVersion {
	e.t.Helper()
	v, err := e.store.PublishSource(context.Background(), name, flowSrc(name), "test", "")
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *testEnv) saveCDR(callID, flow, outcome string, started time.Time) {
	e.t.Helper()
	err := e.store.SaveCDR(context.Background(), records.CDR{
		CallID: callID, RunID: "run-" + callID, WorkflowID: "call-" + callID, Flow: flow, FlowVersion: 1,
		From: "+15550100", To: "1000", Channel: "text", StartedAt: started, EndedAt: started.Add(3 * time.Second),
		Duration: 3 * time.Second, Outcome: outcome,
		Path: []records.Step{
			{Node: "hello", Type: "play", EnteredAt: started, LeftAt: started.Add(time.Second), Outcome: "next"},
			{Node: "bye", Type: "hangup", EnteredAt: started.Add(time.Second), LeftAt: started.Add(3 * time.Second)},
		},
		Vars: map[string]any{"pin": "****"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// fakeCalls is an in-memory CallOps.
type fakeCalls struct {
	mu         sync.Mutex
	calls      map[string]CallState
	summaries  []CallSummary
	lastFilter CallFilter
	terminated map[string]string
	resets     []string
}

func newFakeCalls() *fakeCalls {
	now := time.Now().UTC()
	st := CallState{CallID: "c1", WorkflowID: "call-c1", RunID: "r1", Flow: "f1", FlowVersion: 1, Node: "menu",
		NodeSince: now.Add(-5 * time.Minute), Steps: 2, Vars: map[string]any{"x": 1},
		Path: []records.Step{
			{Node: "hello", Type: "play", EnteredAt: now.Add(-6 * time.Minute), LeftAt: now.Add(-5 * time.Minute), Outcome: "next", RunID: "r1"},
			{Node: "menu", Type: "menu", EnteredAt: now.Add(-5 * time.Minute), RunID: "r1"},
		}}
	return &fakeCalls{
		calls: map[string]CallState{"c1": st},
		summaries: []CallSummary{
			{CallID: "c1", WorkflowID: "call-c1", RunID: "r1", Flow: "f1", Version: 1, Node: "menu", NodeSince: st.NodeSince, Status: "running", StartedAt: now.Add(-6 * time.Minute)},
			{CallID: "c2", WorkflowID: "call-c2", RunID: "r2", Flow: "f1", Version: 1, Node: "hello", Status: "running", StartedAt: now.Add(-time.Minute)},
			{CallID: "c3", WorkflowID: "call-c3", RunID: "r3", Flow: "f2", Version: 1, Node: "menu", Status: "running", StartedAt: now},
		},
		terminated: map[string]string{},
	}
}

func (f *fakeCalls) List(_ context.Context, flt CallFilter) ([]CallSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastFilter = flt
	var out []CallSummary
	for _, c := range f.summaries {
		if (flt.Flow == "" || c.Flow == flt.Flow) && (flt.Node == "" || c.Node == flt.Node) && len(out) < flt.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeCalls) Show(_ context.Context, id string) (CallState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.calls[id]
	if !ok {
		return CallState{}, fmt.Errorf("query call %s: %w", id, ErrCallNotFound)
	}
	return st, nil
}

func (f *fakeCalls) Stuck(_ context.Context, olderThan time.Duration) ([]StuckCall, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []StuckCall
	for _, c := range f.summaries {
		if !c.NodeSince.IsZero() && time.Since(c.NodeSince) > olderThan {
			out = append(out, StuckCall{CallSummary: c, Reason: "in node " + c.Node})
		}
	}
	return out, nil
}

func (f *fakeCalls) Reset(_ context.Context, id, node, reason string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.calls[id]
	if !ok {
		return "", ErrCallNotFound
	}
	for _, p := range st.Path {
		if p.Node == node {
			f.resets = append(f.resets, id+"@"+node+":"+reason)
			return "r-new", nil
		}
	}
	return "", fmt.Errorf("reset call %s to %q: %w", id, node, ErrNoSuchNode)
}

func (f *fakeCalls) Terminate(_ context.Context, id, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.calls[id]; !ok {
		return ErrCallNotFound
	}
	f.terminated[id] = reason
	return nil
}

func (f *fakeCalls) History(_ context.Context, id string) (json.RawMessage, error) {
	if _, err := f.Show(context.Background(), id); err != nil {
		return nil, err
	}
	return json.RawMessage(`{"events":[{"eventId":"1","eventType":"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"}]}`), nil
}

func (f *fakeCalls) ReplayCheck(_ context.Context, id string) (ReplayResult, error) {
	if _, err := f.Show(context.Background(), id); err != nil {
		return ReplayResult{}, err
	}
	return ReplayResult{CallID: id, RunID: "r1", Events: 42, Deterministic: true}, nil
}

// fakeSim plays a scripted conversation: a prompt at hello, a menu at menu
// waiting for input; "1" ends the call at bye, "hangup" ends it hung up.
type fakeSim struct {
	mu    sync.Mutex
	emits map[string]func(SimEvent)
	reqs  []SimRequest
}

func newFakeSim() *fakeSim { return &fakeSim{emits: map[string]func(SimEvent){}} }

func (f *fakeSim) Start(_ context.Context, req SimRequest, emit func(SimEvent)) error {
	if strings.Contains(req.Flow.Source, "fail-start") {
		return fmt.Errorf("temporal unavailable")
	}
	f.mu.Lock()
	f.emits[req.CallID] = emit
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	emit(SimEvent{Kind: SimPrompt, Node: "hello", Text: "Hello"})
	emit(SimEvent{Kind: SimPrompt, Node: "menu", Text: "Press 1 for goodbye"})
	emit(SimEvent{Kind: SimListen, Node: "menu"})
	return nil
}

func (f *fakeSim) Send(_ context.Context, callID, input string) error {
	f.mu.Lock()
	emit := f.emits[callID]
	f.mu.Unlock()
	if emit == nil {
		return fmt.Errorf("no session %s", callID)
	}
	emit(SimEvent{Kind: SimInput, Node: "menu", Text: input})
	if input == "hangup" {
		emit(SimEvent{Kind: SimEnd, Outcome: "caller_hangup", Path: []string{"hello", "menu"}})
		return nil
	}
	emit(SimEvent{Kind: SimHangup, Node: "bye"})
	emit(SimEvent{Kind: SimEnd, Outcome: "completed", Path: []string{"hello", "menu", "bye"}})
	return nil
}
