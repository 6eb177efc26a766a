package designerapi

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

// roleCase is a request that exercises one operation.
type roleCase struct {
	params map[string]string // path parameters
	query  string
	body   any
	// self: the operation acts for the caller's own agent below operator;
	// path parameter name is the caller's agent, test-ROLE (test-admin
	// when anonymous).
	self bool
	// stream: the answer is a stream that lasts until the client leaves
	// (the request gives up after 100 ms).
	stream bool
}

// path is the operation's path for caller, with parameters and query.
func (c roleCase) path(o *huma.Operation, caller Role) string {
	path := o.Path
	if c.self {
		if caller == "" {
			caller = RoleAdmin
		}
		path = strings.ReplaceAll(path, "{name}", "test-"+string(caller))
	}
	for k, v := range c.params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	if c.query != "" {
		path += "?" + c.query
	}
	return path
}

// roleCases has one entry per operation ID. A new operation without an
// entry fails TestEveryOperationAgainstEveryRole.
func roleCases(e *testEnv, fx roleFixtures) map[string]roleCase {
	flow := map[string]string{"name": "f1"}
	agent := map[string]string{"name": "test-agent"}
	cases := map[string]roleCase{
		"sign-in":         {body: map[string]any{"username": "bob", "password": "bob-password-1"}},
		"sign-out":        {},
		"get-session":     {},
		"change-password": {body: map[string]any{"current": "x", "new": "0123456789ab"}},

		"list-users":  {},
		"create-user": {body: map[string]any{"username": "new-user", "password": "new-password-1", "role": "viewer"}},
		"update-user": {params: map[string]string{"username": "bob"}, body: map[string]any{"role": "designer"}},
		"delete-user": {params: map[string]string{"username": "carol"}},
		"list-keys":   {},
		"list-audit":  {},
		// Not a number: 422 past the role check (newEnv has no Eraser; privacy_test.go erases).
		"privacy-erase": {body: map[string]any{"number": "nobody"}},
		"create-key":    {body: map[string]any{"name": "ci", "role": "publisher"}},
		"delete-key":    {params: map[string]string{"id": fx.keyID}},

		"list-flows":      {},
		"get-flow":        {params: flow},
		"create-flow":     {body: map[string]any{"source": flowSrc("created")}},
		"save-draft":      {params: map[string]string{"name": "drafty"}, body: map[string]any{"source": flowSrc("drafty")}},
		"delete-draft":    {params: flow},
		"validate-flow":   {body: map[string]any{"source": flowSrc("x")}},
		"get-flow-graph":  {params: flow},
		"graph-source":    {body: map[string]any{"source": flowSrc("x")}},
		"diff-flow":       {params: flow, query: "from=1&to=latest"},
		"publish-flow":    {params: flow},
		"list-versions":   {params: flow},
		"get-version":     {params: map[string]string{"name": "f1", "version": "1"}},
		"rollback-flow":   {params: flow, body: map[string]any{"version": 1}},
		"list-numbers":    {},
		"bind-number":     {params: map[string]string{"number": "1000"}, body: map[string]any{"flow": "f1"}},
		"unbind-number":   {params: map[string]string{"number": "2000"}},
		"list-calls":      {query: "running=true"},
		"stuck-calls":     {},
		"get-call":        {params: map[string]string{"id": "c1"}},
		"reset-call":      {params: map[string]string{"id": "c1"}, body: map[string]any{"node": "hello"}},
		"terminate-call":  {params: map[string]string{"id": "c1"}},
		"replay-call":     {params: map[string]string{"id": "c1"}},
		"call-history":    {params: map[string]string{"id": "c1"}},
		"search-cdrs":     {},
		"get-cdr":         {params: map[string]string{"id": "cdr1"}},
		"export-cdrs":     {query: "format=csv"},
		"metrics-summary": {},
		"list-node-types": {},

		"list-queues":       {},
		"get-queue":         {params: map[string]string{"name": "q1"}},
		"put-queue":         {params: map[string]string{"name": "q-new"}, body: map[string]any{"max_wait": "5m"}},
		"delete-queue":      {params: map[string]string{"name": "q-doomed"}},
		"list-agents":       {},
		"get-agent":         {params: agent},
		"set-agent-profile": {params: agent, body: map[string]any{"skills": []string{"english"}}},
		"set-agent-state":   {self: true, body: map[string]any{"state": "available"}},
		"end-wrap-up":       {self: true, body: map[string]any{"disposition": "sale"}},
		"get-board":         {},
		"stream-board":      {stream: true},
		"board-history":     {},
		"list-callbacks":    {query: "state=waiting"},
		"schedule-callback": {body: map[string]any{"queue": "q1", "number": "+15550100"}},

		"start-simulation":         {body: map[string]any{"flow": "f1"}},
		"send-simulation-input":    {params: map[string]string{"id": fx.simID}, body: map[string]any{"input": "hangup"}},
		"get-simulation":           {params: map[string]string{"id": fx.simID}},
		"stream-simulation-events": {params: map[string]string{"id": fx.doneSimID}},
	}
	maps.Copy(cases, campaignRoleCases(e))
	return cases
}

// doCase sends a case's request as e.do does; a stream's request gives
// up after 100 ms.
func (e *testEnv) doCase(c roleCase, role Role, method, path string, args ...any) *httptest.ResponseRecorder {
	e.t.Helper()
	if !c.stream {
		return e.do(role, method, path, args...)
	}
	if role != "" {
		args = append(args, "Authorization: Bearer "+e.keys[role])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	return e.api.DoCtx(ctx, method, path, args...)
}

type roleFixtures struct {
	keyID, simID, doneSimID string
}

func setupRoleFixtures(t *testing.T, e *testEnv) roleFixtures {
	ctx := context.Background()
	e.publishFlow("f1")
	if _, err := e.store.SaveDraft(ctx, "f1", flowSrc("f1")+"# edited\n", ""); err != nil {
		t.Fatal(err)
	}
	e.publishFlow("f2")
	if err := e.store.BindNumber(ctx, "2000", "f2"); err != nil {
		t.Fatal(err)
	}
	e.saveCDR("cdr1", "f1", "completed", time.Now().UTC().Add(-time.Minute))
	for _, r := range Roles { // each role's key acts for agent test-ROLE
		e.addAgent("test-"+string(r), map[string]int{"english": 1}, "q1")
	}
	for _, q := range []string{"q1", "q-doomed"} {
		if err := e.store.PutQueue(ctx, store.Queue{Name: q}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"bob", "carol"} {
		if _, err := e.auth.CreateUser(ctx, u, u+"-password-1", RoleViewer); err != nil {
			t.Fatal(err)
		}
	}
	_, k, err := e.auth.CreateKey(ctx, "doomed", RoleViewer, "test")
	if err != nil {
		t.Fatal(err)
	}
	fx := roleFixtures{keyID: k.ID}
	start := func() string {
		w := e.do(RoleAdmin, http.MethodPost, Prefix+"/simulate", map[string]any{"flow": "f1"})
		e.expect(w, http.StatusCreated)
		return decode[SimStarted](t, w).CallID
	}
	fx.simID = start()
	fx.doneSimID = start()
	e.expect(e.do(RoleAdmin, http.MethodPost, Prefix+"/simulate/"+fx.doneSimID+"/input", map[string]any{"input": "1"}), http.StatusNoContent)
	return fx
}

func operations(api huma.API) []*huma.Operation {
	var out []*huma.Operation
	for _, item := range api.OpenAPI().Paths {
		for _, o := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head, item.Options} {
			if o != nil {
				out = append(out, o)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OperationID < out[j].OperationID })
	return out
}

// TestEveryOperationAgainstEveryRole calls every registered operation as
// an anonymous caller and as each role: below the operation's least role
// the answer is 401 (anonymous) or 403; at or above it, neither.
func TestEveryOperationAgainstEveryRole(t *testing.T) {
	e := newEnv(t)
	fx := setupRoleFixtures(t, e)
	cases := roleCases(e, fx)
	ops := operations(e.api)
	if len(ops) < 40 {
		t.Fatalf("only %d operations registered", len(ops))
	}
	seen := map[string]bool{}
	callers := append([]Role{""}, Roles...)
	for _, o := range ops {
		seen[o.OperationID] = true
		min, ok := MinRole(o)
		if !ok || o.Extensions[ExtMinRole] != string(min) {
			t.Errorf("%s declares no least role", o.OperationID)
			continue
		}
		c, ok := cases[o.OperationID]
		if !ok {
			t.Errorf("%s has no case in roleCases: add one", o.OperationID)
			continue
		}
		if path := c.path(o, ""); strings.Contains(path, "{") {
			t.Errorf("%s: path %s has unfilled parameters", o.OperationID, path)
			continue
		}
		for _, caller := range callers {
			path := c.path(o, caller)
			var args []any
			if c.body != nil {
				args = append(args, c.body)
			}
			w := e.doCase(c, caller, o.Method, path, args...)
			allowed := min == RoleAnyone || (caller != "" && caller.Allows(min))
			switch {
			case allowed && (w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden):
				t.Errorf("%s %s as %q: %d, want allowed: %s", o.Method, path, caller, w.Code, w.Body.String())
			case !allowed && caller == "" && w.Code != http.StatusUnauthorized:
				t.Errorf("%s %s anonymous: %d, want 401", o.Method, path, w.Code)
			case !allowed && caller != "" && w.Code != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", o.Method, path, caller, w.Code)
			case allowed && w.Code >= 500:
				t.Errorf("%s %s as %s: %d: %s", o.Method, path, caller, w.Code, w.Body.String())
			}
		}
	}
	for id := range cases {
		if !seen[id] {
			t.Errorf("roleCases has %s, which is not a registered operation", id)
		}
	}
}

// TestRoleOrder pins the role ladder.
func TestRoleOrder(t *testing.T) {
	for i, r := range Roles {
		for j, min := range Roles {
			if got, want := r.Allows(min), i >= j; got != want {
				t.Errorf("%s.Allows(%s) = %v, want %v", r, min, got, want)
			}
		}
	}
	if Role("root").Allows(RoleAgent) || Role("").Allows(RoleAgent) {
		t.Error("unknown roles must allow nothing")
	}
	if Roles[0] != RoleAgent || RoleAgent.Allows(RoleViewer) || !RoleViewer.Allows(RoleAgent) {
		t.Errorf("agent must be the weakest role: %v", Roles)
	}
}

// TestActingForAnotherAgent pins who may change which agent's state and
// wrap-up: below operator only one's own (the agent named like the user
// or the API key), operator and admin anyone's.
func TestActingForAnotherAgent(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"test-agent", "test-viewer", "alice"} {
		e.addAgent(name, map[string]int{"english": 1})
	}
	for _, tc := range []struct {
		role  Role
		agent string
		code  int
	}{
		{RoleAgent, "test-agent", http.StatusOK},
		{RoleAgent, "alice", http.StatusForbidden},
		{RoleViewer, "test-viewer", http.StatusOK},
		{RoleViewer, "alice", http.StatusForbidden},
		{RoleDesigner, "alice", http.StatusForbidden},
		{RolePublisher, "alice", http.StatusForbidden},
		{RoleOperator, "alice", http.StatusOK},
		{RoleAdmin, "alice", http.StatusOK},
	} {
		w := e.do(tc.role, http.MethodPut, Prefix+"/agents/"+tc.agent+"/state", map[string]any{"state": "available"})
		want := fmt.Sprintf("%s test-%s may change only their own state", tc.role, tc.role)
		if w.Code != tc.code || (tc.code == http.StatusForbidden && !strings.Contains(w.Body.String(), want)) {
			t.Errorf("%s sets %s's state: %d %s", tc.role, tc.agent, w.Code, w.Body.String())
		}
		// Wrap-up: 409 (not in wrap-up) once past the check.
		w = e.do(tc.role, http.MethodPost, Prefix+"/agents/"+tc.agent+"/wrap-up", map[string]any{"disposition": "x"})
		if want := map[bool]int{true: http.StatusConflict, false: http.StatusForbidden}[tc.code == http.StatusOK]; w.Code != want {
			t.Errorf("%s ends %s's wrap-up: %d, want %d: %s", tc.role, tc.agent, w.Code, want, w.Body.String())
		}
	}
	// An agent's session acts for the agent named like the user.
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, "alice", "alice-password-1", RoleAgent); err != nil {
		t.Fatal(err)
	}
	token, _, _, err := e.auth.Login(ctx, "alice", "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	cookie := "Cookie: " + SessionCookie + "=" + token
	if w := e.api.Do(http.MethodPut, Prefix+"/agents/alice/state", cookie, originHeader, map[string]any{"state": "break"}); w.Code != http.StatusOK {
		t.Fatalf("alice's own state: %d %s", w.Code, w.Body.String())
	}
	w := e.api.Do(http.MethodPut, Prefix+"/agents/test-agent/state", cookie, originHeader, map[string]any{"state": "break"})
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "agent alice may change only their own state") {
		t.Fatalf("alice sets test-agent's state: %d %s", w.Code, w.Body.String())
	}
	for _, path := range []string{"/board", "/session"} {
		if w := e.api.Do(http.MethodGet, Prefix+path, cookie); w.Code != http.StatusOK {
			t.Errorf("agent alice GET %s: %d", path, w.Code)
		}
	}
	if w := e.api.Do(http.MethodGet, Prefix+"/queues", cookie); w.Code != http.StatusForbidden {
		t.Errorf("agent alice GET /queues: %d", w.Code)
	}
}
