package designerapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// fakeRouting is a router in memory: it refuses what the router workflow
// refuses, with a *temporal.ApplicationError as a rejected update is.
type fakeRouting struct {
	mu       sync.Mutex
	board    activities.Board
	reqs     []activities.AgentRequest
	wraps    []activities.WrapUpRequest
	boardErr error
}

func refused(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), "")
}

func (f *fakeRouting) Board(context.Context) (activities.Board, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.board, f.boardErr
}

// agent returns the board's agent, adding it offline when new.
func (f *fakeRouting) agent(name string) *activities.AgentView {
	for i := range f.board.Agents {
		if f.board.Agents[i].Name == name {
			return &f.board.Agents[i]
		}
	}
	f.board.Agents = append(f.board.Agents, activities.AgentView{Name: name, State: "offline"})
	return &f.board.Agents[len(f.board.Agents)-1]
}

func (f *fakeRouting) SetAgent(_ context.Context, req activities.AgentRequest) (activities.AgentView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := routing.ParseState(req.State)
	switch {
	case err != nil:
		return activities.AgentView{}, refused("agent %q: %v", req.Agent, err)
	case !routing.Requestable(st):
		return activities.AgentView{}, refused("agent %q: %q is set by routing, not by request; ask for offline, available or break", req.Agent, req.State)
	case req.Profile == nil && st != routing.Offline:
		return activities.AgentView{}, refused("agent %q: no profile: sign in with the agent's skills", req.Agent)
	}
	f.reqs = append(f.reqs, req)
	a := f.agent(req.Agent)
	if a.State == string(routing.WrapUp) || a.State == string(routing.OnCall) {
		a.Pending = string(st)
	} else {
		a.State, a.Since = string(st), time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	}
	a.Reason = req.Reason
	if p := req.Profile; p != nil {
		a.Skills, a.Queues, a.Capacity = routing.Skills(p.Skills).Strings(), p.Queues, p.Capacity
	}
	return *a, nil
}

func (f *fakeRouting) WrapUp(_ context.Context, req activities.WrapUpRequest) (activities.AgentView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agent(req.Agent)
	if a.State != string(routing.WrapUp) {
		return activities.AgentView{}, refused("agent %q is not in wrap-up", req.Agent)
	}
	f.wraps = append(f.wraps, req)
	a.State, a.Calls = string(routing.Available), nil
	if a.Pending != "" {
		a.State, a.Pending = a.Pending, ""
	}
	return *a, nil
}

// set puts an agent on the board as given.
func (f *fakeRouting) set(v activities.AgentView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.agent(v.Name) = v
}

func (f *fakeRouting) requests() []activities.AgentRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]activities.AgentRequest(nil), f.reqs...)
}

// addAgent makes a SIP account and, with skills, a profile.
func (e *testEnv) addAgent(name string, skills map[string]int, queues ...string) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.store.AddSIPAccount(ctx, store.SIPAccount{Username: name, Realm: "voxflow", HA1: "x", Enabled: true}); err != nil {
		e.t.Fatal(err)
	}
	if skills == nil {
		return
	}
	if err := e.store.SetAgentProfile(ctx, store.AgentProfile{Username: name, Skills: skills, Queues: queues, Capacity: 1}); err != nil {
		e.t.Fatal(err)
	}
}

// wantProblem checks a problem's status and that its detail holds want.
func (e *testEnv) wantProblem(role Role, method, path string, body any, status int, want string) {
	e.t.Helper()
	var args []any
	if body != nil {
		args = append(args, body)
	}
	w := e.do(role, method, path, args...)
	if w.Code != status || !strings.Contains(w.Body.String(), want) {
		e.t.Fatalf("%s %s as %s: %d %s, want %d with %q", method, path, role, w.Code, w.Body.String(), status, want)
	}
}

func TestQueues(t *testing.T) {
	e := newEnv(t)
	e.route.board = activities.Board{At: time.Now().UTC(), Window: 15 * time.Minute, Queues: []activities.QueueView{
		{Name: "support", Waiting: 3, LongestWait: 95*time.Second + 400*time.Microsecond, Staffed: 2, Available: 1,
			Answered: 10, Abandoned: 1, ServiceLevel: 0.8, SLThreshold: 20 * time.Second, AHT: 3 * time.Minute,
			AvgWait: 12 * time.Second, EstimatedWait: 90 * time.Second},
	}}
	q := Prefix + "/queues/"
	w := e.do(RolePublisher, http.MethodPut, q+"sales", map[string]any{"max_wait": "5m"})
	e.expect(w, http.StatusOK)
	body := map[string]any{"hold_flow": "support-hold", "announce_every": "45s", "max_waiting": 20, "ring_timeout": "15s",
		"overflow": []map[string]any{{"after": "60s", "skills": []string{"billing:3"}}, {"after": "2m", "queue": "sales"}}}
	got := decode[Queue](t, e.do(RolePublisher, http.MethodPut, q+"support", body))
	if got.HoldFlow != "support-hold" || got.AnnounceEvery != "45s" || got.MaxWait != "10m0s" || got.MaxWaiting != 20 ||
		got.RingTimeout != "15s" || got.WrapUp != "30s" || got.SLThreshold != "20s" || len(got.Overflow) != 2 ||
		got.Overflow[0].After != "1m0s" || got.Overflow[0].Skills[0] != "billing:3" || got.Overflow[1].Queue != "sales" {
		t.Fatalf("put support: %+v", got)
	}
	if l := got.Live; l == nil || l.Waiting != 3 || l.LongestWait != "1m35s" || l.EstimatedWait != "1m30s" || l.ServiceLevel != 0.8 ||
		l.Staffed != 2 || l.Available != 1 || l.Answered != 10 || l.Abandoned != 1 || l.AHT != "3m0s" {
		t.Fatalf("live support: %+v", got.Live)
	}
	list := decode[struct {
		Queues    []Queue `json:"queues"`
		LiveError string  `json:"live_error"`
	}](t, e.do(RoleViewer, http.MethodGet, Prefix+"/queues"))
	if len(list.Queues) != 2 || list.Queues[0].Name != "sales" || list.Queues[0].MaxWait != "5m0s" || list.Queues[0].HoldFlow != "queue-hold" ||
		list.Queues[0].Live == nil || list.Queues[0].Live.Waiting != 0 || list.Queues[0].Live.EstimatedWait != "" || list.LiveError != "" {
		t.Fatalf("list: %+v", list)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, q+"support"), http.StatusOK)
	e.wantProblem(RoleViewer, http.MethodGet, q+"nope", nil, http.StatusNotFound, `queue \"nope\": not found`)

	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"max_wait": "soon"}, `"location":"body.max_wait"`},
		{map[string]any{"wrap_up": "-5s"}, `"location":"body.wrap_up"`},
		{map[string]any{"overflow": []map[string]any{{"after": "1x", "clear_skills": true}}}, `"location":"body.overflow[0].after"`},
		{map[string]any{"overflow": []map[string]any{{"after": "1m", "skills": []string{"billing:x"}}}}, `level must be a whole number`},
		{map[string]any{"overflow": []map[string]any{{"after": "1m"}}}, `overflow[0]: invalid argument: sets no skills, clear_skills or queue`},
		{map[string]any{"overflow": []map[string]any{{"after": "1m", "queue": "ghost"}}}, `overflow[0].queue \"ghost\": not found: create that queue first`},
		{map[string]any{"max_waiting": -1}, `"location":"body.max_waiting"`},
	} {
		e.wantProblem(RolePublisher, http.MethodPut, q+"broken", tc.body, http.StatusUnprocessableEntity, tc.want)
	}
	e.wantProblem(RolePublisher, http.MethodDelete, q+"sales", nil, http.StatusConflict, `queue \"support\" overflow[1] goes to it`)
	e.wantProblem(RolePublisher, http.MethodDelete, q+"nope", nil, http.StatusNotFound, "not found")
	e.expect(e.do(RolePublisher, http.MethodDelete, q+"support"), http.StatusNoContent)
	e.expect(e.do(RolePublisher, http.MethodDelete, q+"sales"), http.StatusNoContent)
	e.expect(e.do(RoleViewer, http.MethodGet, q+"sales"), http.StatusNotFound)
}

func TestAgentProfiles(t *testing.T) {
	e := newEnv(t)
	e.addAgent("alice", nil)
	a := Prefix + "/agents/"
	e.wantProblem(RoleOperator, http.MethodPut, a+"alice", map[string]any{"skills": []string{"billing:x"}},
		http.StatusUnprocessableEntity, `skill \"billing:x\": level must be a whole number from 1 to 10`)
	e.wantProblem(RoleOperator, http.MethodPut, a+"zed", map[string]any{"skills": []string{"english"}},
		http.StatusNotFound, "`voxflow agents add zed` creates it")
	e.wantProblem(RoleOperator, http.MethodPut, a+"alice", map[string]any{"queues": []string{"ok", "bad queue"}},
		http.StatusUnprocessableEntity, `queues[1]`)
	e.wantProblem(RoleViewer, http.MethodGet, a+"alice", nil, http.StatusNotFound, "set the agent's skills first")

	got := decode[Agent](t, e.do(RoleOperator, http.MethodPut, a+"alice",
		map[string]any{"skills": []string{"billing:5,English"}, "queues": []string{"support", "sales"}, "capacity": 2}))
	if strings.Join(got.Skills, " ") != "billing:5 english:1" || strings.Join(got.Queues, " ") != "support sales" || got.Capacity != 2 ||
		got.Live == nil || got.Live.State != "offline" || len(e.route.requests()) != 0 {
		t.Fatalf("put alice (signed out): %+v, router asked %+v", got, e.route.requests())
	}

	// A signed-in agent's router gets the new profile with the state the
	// agent asked for (on a call: the pending one).
	e.route.set(activities.AgentView{Name: "alice", State: "on_call", Pending: "break", Reason: "lunch", Calls: []string{"c9"}})
	got = decode[Agent](t, e.do(RoleOperator, http.MethodPut, a+"alice", map[string]any{"skills": []string{"billing:7"}}))
	reqs := e.route.requests()
	if len(reqs) != 1 || reqs[0].State != "break" || reqs[0].Reason != "lunch" || reqs[0].Profile == nil ||
		reqs[0].Profile.Skills["billing"] != 7 || reqs[0].Profile.Capacity != 1 {
		t.Fatalf("router asked %+v", reqs)
	}
	if got.Live == nil || got.Live.State != "on_call" || got.Live.Pending != "break" || got.Capacity != 1 || got.LiveError != "" {
		t.Fatalf("put alice (on a call): %+v", got)
	}

	e.addAgent("bob", map[string]int{"english": 2}, "support")
	list := decode[struct {
		Agents []Agent `json:"agents"`
	}](t, e.do(RoleViewer, http.MethodGet, Prefix+"/agents"))
	if len(list.Agents) != 2 || list.Agents[0].Name != "alice" || list.Agents[0].Live.State != "on_call" ||
		strings.Join(list.Agents[0].Live.Calls, ",") != "c9" || list.Agents[1].Live.State != "offline" || list.Agents[1].Skills[0] != "english:2" {
		t.Fatalf("list: %+v", list)
	}
	one := decode[Agent](t, e.do(RoleViewer, http.MethodGet, a+"bob"))
	if one.Name != "bob" || one.Live == nil || one.Live.State != "offline" {
		t.Fatalf("get bob: %+v", one)
	}

	// The router not answering leaves the profile stored and says so.
	e.route.boardErr = serviceerror.NewUnavailable("connection refused")
	got = decode[Agent](t, e.do(RoleOperator, http.MethodPut, a+"bob", map[string]any{"skills": []string{"english:3"}}))
	if got.Live != nil || !strings.Contains(got.LiveError, "profile stored") || got.Skills[0] != "english:3" {
		t.Fatalf("put bob without router: %+v", got)
	}
}

func TestAgentStateAndWrapUp(t *testing.T) {
	e := newEnv(t)
	e.addAgent("test-agent", map[string]int{"english": 1}, "support")
	e.addAgent("alice", map[string]int{"billing": 5}, "support")
	e.addAgent("noprofile", nil)
	state := func(name string) string { return Prefix + "/agents/" + name + "/state" }
	wrap := func(name string) string { return Prefix + "/agents/" + name + "/wrap-up" }

	got := decode[BoardAgent](t, e.do(RoleAgent, http.MethodPut, state("test-agent"), map[string]any{"state": "available"}))
	if got.Name != "test-agent" || got.State != "available" || strings.Join(got.Skills, ",") != "english:1" {
		t.Fatalf("sign in: %+v", got)
	}
	if r := e.route.requests(); len(r) != 1 || r[0].Profile == nil || r[0].Profile.Queues[0] != "support" {
		t.Fatalf("router asked %+v", r)
	}
	e.wantProblem(RoleAgent, http.MethodPut, state("alice"), map[string]any{"state": "available"},
		http.StatusForbidden, "agent test-agent may change only their own state")
	e.wantProblem(RolePublisher, http.MethodPut, state("alice"), map[string]any{"state": "available"},
		http.StatusForbidden, "publisher test-publisher may change only their own state")
	e.wantProblem(RoleAgent, http.MethodPost, wrap("alice"), map[string]any{"disposition": "x"},
		http.StatusForbidden, "agent test-agent may change only their own state")
	got = decode[BoardAgent](t, e.do(RoleOperator, http.MethodPut, state("alice"), map[string]any{"state": "Break", "reason": "coffee"}))
	if got.State != "break" || got.Reason != "coffee" {
		t.Fatalf("operator sets alice's break: %+v", got)
	}

	e.wantProblem(RoleAgent, http.MethodPut, state("test-agent"), map[string]any{"state": "sleeping"},
		http.StatusUnprocessableEntity, `state \"sleeping\": must be one of`)
	e.wantProblem(RoleAgent, http.MethodPut, state("test-agent"), map[string]any{"state": "on_call"},
		http.StatusUnprocessableEntity, "is set by routing, not by request")
	e.wantProblem(RoleOperator, http.MethodPut, state("noprofile"), map[string]any{"state": "available"},
		http.StatusNotFound, "set the agent's skills first")
	e.wantProblem(RoleOperator, http.MethodPut, state("ghost"), map[string]any{"state": "available"},
		http.StatusNotFound, "has no routing profile")
	// Signing out needs no profile (an agent whose account went away).
	e.expect(e.do(RoleOperator, http.MethodPut, state("noprofile"), map[string]any{"state": "offline"}), http.StatusOK)

	e.wantProblem(RoleAgent, http.MethodPost, wrap("test-agent"), map[string]any{"disposition": "sale"},
		http.StatusConflict, `agent \"test-agent\" is not in wrap-up`)
	e.route.set(activities.AgentView{Name: "test-agent", State: "wrap_up", Skills: []string{"english:1"}})
	got = decode[BoardAgent](t, e.do(RoleAgent, http.MethodPost, wrap("test-agent"), map[string]any{"disposition": "sale"}))
	if got.State != "available" || len(e.route.wraps) != 1 || e.route.wraps[0].Disposition != "sale" {
		t.Fatalf("wrap-up: %+v %+v", got, e.route.wraps)
	}

	// Temporal not answering is a 503, not the caller's fault.
	e.route.boardErr = serviceerror.NewUnavailable("connection refused")
	e.wantProblem(RoleAgent, http.MethodGet, Prefix+"/board", nil, http.StatusServiceUnavailable, "Temporal is not reachable")
}

func TestBoard(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	e.route.board = activities.Board{At: at, Window: 15 * time.Minute,
		Queues: []activities.QueueView{{Name: "support", Waiting: 1, LongestWait: 1500 * time.Millisecond, EstimatedWait: -1}},
		Agents: []activities.AgentView{{Name: "alice", State: "on_call", Since: at, Calls: []string{"c1"}, Skills: []string{"billing:5"}, Capacity: 1}}}
	b := decode[Board](t, e.do(RoleAgent, http.MethodGet, Prefix+"/board"))
	if !b.At.Equal(at) || b.Window != "15m0s" || len(b.Queues) != 1 || b.Queues[0].Name != "support" ||
		b.Queues[0].LongestWait != "1.5s" || b.Queues[0].EstimatedWait != "" || len(b.Agents) != 1 ||
		b.Agents[0].State != "on_call" || b.Agents[0].Calls[0] != "c1" || b.Agents[0].Skills[0] != "billing:5" {
		t.Fatalf("board: %+v", b)
	}
	e.route.board = activities.Board{}
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/board")
	e.expect(w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `"queues":[],"agents":[]`) {
		t.Fatalf("empty board: %s", w.Body.String())
	}
}

// TestNoRouting: without Routing, the board and state changes answer 503;
// listings answer from the store and say why they have no live figures.
func TestNoRouting(t *testing.T) {
	e := newEnv(t)
	_, api := New(Config{Store: e.store, Auth: e.auth})
	e2 := *e
	e2.api = wrapQuiet(t, api)
	e.addAgent("test-agent", map[string]int{"english": 1})
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "support"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/board", nil},
		{http.MethodPut, "/agents/test-agent/state", map[string]any{"state": "available"}},
		{http.MethodPost, "/agents/test-agent/wrap-up", map[string]any{"disposition": "x"}},
	} {
		e2.wantProblem(RoleAgent, c.method, Prefix+c.path, c.body, http.StatusServiceUnavailable, errNoRouting)
	}
	w := e2.do(RoleViewer, http.MethodGet, Prefix+"/queues")
	e2.expect(w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `"live_error":"`+errNoRouting) || strings.Contains(w.Body.String(), `"live":`) {
		t.Fatalf("queues without routing: %s", w.Body.String())
	}
	a := decode[Agent](t, e2.do(RoleOperator, http.MethodPut, Prefix+"/agents/test-agent", map[string]any{"skills": []string{"english:4"}}))
	if a.Live != nil || !strings.Contains(a.LiveError, errNoRouting) || a.Skills[0] != "english:4" {
		t.Fatalf("set profile without routing: %+v", a)
	}
}

func TestCallbacks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	due := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct{ id, queue, state string }{
		{"cb1", "support", store.CallbackScheduled}, {"cb2", "sales", store.CallbackWaiting}, {"cb3", "support", store.CallbackDone},
	} {
		err := e.store.PutCallback(ctx, store.Callback{ID: c.id, Queue: c.queue, Number: "+1555010" + fmt.Sprint(i), CallID: "call-" + c.id,
			State: c.state, DueAt: due.Add(time.Duration(i) * time.Minute), Timezone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
	}
	list := func(query string) []Callback {
		return decode[struct {
			Callbacks []Callback `json:"callbacks"`
		}](t, e.do(RoleViewer, http.MethodGet, Prefix+"/callbacks"+query)).Callbacks
	}
	if got := list(""); len(got) != 3 || got[0].ID != "cb1" || got[0].Number != "+15550100" || !got[0].DueAt.Equal(due) ||
		got[0].Timezone != "Europe/Paris" || got[0].CallID != "call-cb1" {
		t.Fatalf("all: %+v", got)
	}
	if got := list("?queue=support&state=done"); len(got) != 1 || got[0].ID != "cb3" {
		t.Fatalf("support done: %+v", got)
	}
	if got := list("?limit=2"); len(got) != 2 || got[1].ID != "cb2" {
		t.Fatalf("limit 2: %+v", got)
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/callbacks?state=lost"), http.StatusUnprocessableEntity)
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/callbacks?limit=0"), http.StatusUnprocessableEntity)
	e.expect(e.do(RoleAgent, http.MethodGet, Prefix+"/callbacks"), http.StatusForbidden)
}

// TestQueueOnBoard: a queue no call joined yet is staffed as the router
// counts it, from the agents on the board.
func TestQueueOnBoard(t *testing.T) {
	b := activities.Board{Agents: []activities.AgentView{
		{Name: "a", State: "available", Queues: []string{"support"}, Capacity: 1},
		{Name: "b", State: "on_call", Pending: "break", Queues: []string{"support"}, Capacity: 1, Calls: []string{"c1"}},
		{Name: "c", State: "on_call", Pending: "offline", Queues: []string{"support"}, Capacity: 1},
		{Name: "d", State: "available", Queues: []string{"sales"}, Capacity: 1},
		{Name: "e", State: "offline", Queues: []string{"support"}, Capacity: 1},
	}, Queues: []activities.QueueView{{Name: "sales", Waiting: 4}}}
	v := QueueOnBoard(b, "support", 20*time.Second)
	if v.Staffed != 2 || v.Available != 1 || v.ServiceLevel != 1 || v.SLThreshold != 20*time.Second ||
		v.EstimatedWait != routing.EstimateWait(1, 2, routing.DefaultAHT) {
		t.Fatalf("support: %+v", v)
	}
	if v := QueueOnBoard(b, "sales", 0); v.Waiting != 4 {
		t.Fatalf("sales is the router's own: %+v", v)
	}
	if v := QueueOnBoard(activities.Board{}, "x", 0); v.Staffed != 0 || v.EstimatedWait != -1 {
		t.Fatalf("unstaffed: %+v", v)
	}
}
