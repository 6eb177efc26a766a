package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/text"
)

// harness runs CallWorkflow in Temporal's test environment with the real
// text channel as media and recording fakes for the shared activities.
type harness struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	ch     *text.Channel
	sess   *text.Session
	http   func(activities.HTTPInput) (activities.HTTPResult, error)
	httpIn []activities.HTTPInput
	joins  []activities.JoinInput
	join   func(activities.JoinInput) activities.JoinResult
	// events are what the call told the router; the test suite runs each
	// signal's mock in a goroutine of its own.
	evMu   sync.Mutex
	events []activities.QueueEvent
	cdrs   []records.CDR
	flows  map[string]string
}

const callID = "test-call-1"

// newEnv returns a test environment that logs only warnings and errors.
func newEnv() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	return suite.NewTestWorkflowEnvironment()
}

func newHarness(t *testing.T, inputs ...string) *harness {
	t.Helper()
	h := &harness{t: t, env: newEnv(), flows: map[string]string{}}
	h.env.RegisterWorkflowWithOptions(engine.CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	h.env.RegisterWorkflowWithOptions(engine.CallbackWorkflow, workflow.RegisterOptions{Name: activities.CallbackWorkflowName})
	h.ch = text.NewChannel("test", nil)
	activities.RegisterChannel(h.env, h.ch)
	script := make([]text.Input, 0, len(inputs))
	for _, in := range inputs {
		script = append(script, text.ParseInput(in))
	}
	h.sess = h.ch.Open(callID, script)
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.HTTPInput) (activities.HTTPResult, error) {
		h.httpIn = append(h.httpIn, in)
		if h.http == nil {
			return activities.HTTPResult{Status: 200, Body: map[string]any{}}, nil
		}
		return h.http(in)
	}, activity.RegisterOptions{Name: activities.ActHTTP})
	h.env.RegisterActivityWithOptions(func(ctx context.Context, rec records.CDR) error {
		h.cdrs = append(h.cdrs, rec)
		return nil
	}, activity.RegisterOptions{Name: activities.ActSaveCDR})
	h.registerRouting()
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.LoadFlowsInput) ([]activities.FlowSource, error) {
		var out []activities.FlowSource
		for _, n := range in.Names {
			src, ok := h.flows[n]
			if !ok {
				return nil, activities.NewBadInput(errors.New("no flow " + n))
			}
			out = append(out, activities.FlowSource{Name: n, Version: 1, Source: src})
		}
		return out, nil
	}, activity.RegisterOptions{Name: activities.ActLoadFlows})
	return h
}

// run executes the flow and returns the call record.
func (h *harness) run(src string) records.CDR {
	h.t.Helper()
	return h.runInput(engine.CallInput{Flow: activities.FlowSource{Name: flowName(h.t, src), Version: 3, Source: src}})
}

func (h *harness) runInput(in engine.CallInput) records.CDR {
	h.t.Helper()
	in.Call = flows.CallInfo{ID: callID, From: "+15550100", To: "1000", Channel: "text", StartedAt: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)}
	in.MediaQueue = h.ch.Queue()
	h.env.ExecuteWorkflow(activities.CallWorkflowName, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow error: %v", err)
	}
	var rec records.CDR
	if err := h.env.GetWorkflowResult(&rec); err != nil {
		h.t.Fatalf("result: %v", err)
	}
	// A call with a summary saves its record again with the insights.
	if want := 1 + boolInt(rec.Insights != nil); len(h.cdrs) != want {
		h.t.Fatalf("saved %d call records, want %d", len(h.cdrs), want)
	}
	return rec
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// prompts drains what the channel said to the caller.
func (h *harness) prompts() []string {
	var out []string
	for {
		select {
		case e := <-h.sess.Events():
			if e.Kind == text.EventPrompt {
				out = append(out, e.Text)
			}
		default:
			return out
		}
	}
}

func flowName(t *testing.T, src string) string {
	f, diags := flows.Parse("test.yaml", []byte(src))
	if err := diags.Err(); err != nil {
		t.Fatalf("test flow does not parse: %v", err)
	}
	return f.Name
}

func path(rec records.CDR) string {
	var ids []string
	for _, s := range rec.Path {
		ids = append(ids, s.Node)
	}
	return strings.Join(ids, ">")
}

const menuFlow = `
name: menu-test
entry: hello
variables:
  choice: ""
nodes:
  hello:
    type: play
    say: "Hello {{ call.from }}"
    next: menu
  menu:
    type: menu
    prompt: "Press 1 for sales or 2 for billing"
    options:
      "1": { next: sales, phrases: [sales] }
      "2": billing
    retries: 2
    no_input_prompt: "I did not hear you."
    invalid_prompt: "Not a valid choice."
    on_failure: bye
  sales:
    type: set
    assign:
      choice: '"sales"'
    next: bye
  billing:
    type: set
    assign:
      choice: '"billing"'
    next: bye
  bye:
    type: hangup
    say: "Goodbye"
`

func TestMenu(t *testing.T) {
	tests := []struct {
		name    string
		inputs  []string
		path    string
		choice  string
		prompts []string
	}{
		{"digit", []string{"2"}, "hello>menu>billing>bye", "billing",
			[]string{"Hello +15550100", "Press 1 for sales or 2 for billing", "Goodbye"}},
		{"speech phrase", []string{"I want sales please"}, "hello>menu>sales>bye", "sales", nil},
		{"retries then valid", []string{"", "7", "1"}, "hello>menu>sales>bye", "sales",
			[]string{"Hello +15550100", "Press 1 for sales or 2 for billing",
				"I did not hear you.", "Press 1 for sales or 2 for billing",
				"Not a valid choice.", "Press 1 for sales or 2 for billing", "Goodbye"}},
		{"retries exhausted", []string{"9", "", "8"}, "hello>menu>bye", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.inputs...)
			rec := h.run(menuFlow)
			if got := path(rec); got != tt.path {
				t.Errorf("path = %s, want %s", got, tt.path)
			}
			if rec.Vars["choice"] != tt.choice {
				t.Errorf("choice = %v, want %q", rec.Vars["choice"], tt.choice)
			}
			if rec.Outcome != records.OutcomeCompleted {
				t.Errorf("outcome = %s", rec.Outcome)
			}
			if tt.prompts != nil {
				if got := h.prompts(); strings.Join(got, "|") != strings.Join(tt.prompts, "|") {
					t.Errorf("prompts =\n%q\nwant\n%q", got, tt.prompts)
				}
			}
			if rec.FlowVersion != 3 || rec.Flow != "menu-test" {
				t.Errorf("record flow = %s v%d", rec.Flow, rec.FlowVersion)
			}
		})
	}
}

// A play followed by a menu is one caller turn: one media activity.
func TestPlayAndMenuShareOneActivity(t *testing.T) {
	h := newHarness(t, "1")
	var media []string
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if strings.HasPrefix(info.ActivityType.Name, "media.") {
			media = append(media, info.ActivityType.Name)
		}
	})
	h.run(menuFlow)
	if got := strings.Join(media, ","); got != "media.Collect,media.Hangup" {
		t.Errorf("media activities = %s, want media.Collect,media.Hangup", got)
	}
}

const gatherFlow = `
name: gather-test
entry: ask
variables:
  account: ""
nodes:
  ask:
    type: gather
    prompt: "Enter your account number then hash"
    min_digits: 4
    max_digits: 6
    terminator: "#"
    valid: 'input != "0000"'
    var: account
    retries: 2
    invalid_prompt: "That is not valid."
    on_failure: failed
    next: done
  done:
    type: hangup
    say: "Account {{ vars.account }}"
  failed:
    type: hangup
    say: "Sorry"
`

func TestGather(t *testing.T) {
	tests := []struct {
		name    string
		inputs  []string
		account string
		last    string
	}{
		{"terminator stripped", []string{"12345#"}, "12345", "Account 12345"},
		{"too short then ok", []string{"12#", "9876#"}, "9876", "Account 9876"},
		{"valid expression rejects", []string{"0000#", "1111"}, "1111", "Account 1111"},
		{"spoken digits", []string{"say:one two three four"}, "1234", "Account 1234"},
		{"all attempts fail", []string{"1", "", "0000"}, "", "Sorry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.inputs...)
			rec := h.run(gatherFlow)
			if rec.Vars["account"] != tt.account {
				t.Errorf("account = %v, want %q", rec.Vars["account"], tt.account)
			}
			ps := h.prompts()
			if len(ps) == 0 || ps[len(ps)-1] != tt.last {
				t.Errorf("last prompt = %q, want %q", ps, tt.last)
			}
		})
	}
}

const logicFlow = `
name: logic-test
entry: init
variables:
  n: 0
  label: ""
  bucket: ""
nodes:
  init:
    type: set
    assign:
      n: 2
      n2: vars.n * 10
    next: decide
  decide:
    type: branch
    when:
      - if: vars.n2 > 100
        next: big
      - if: vars.n2 == 20
        next: twenty
    default: big
  big:
    type: set
    assign:
      label: '"big"'
    next: split
  twenty:
    type: set
    assign:
      label: '"twenty " + call.channel'
    next: split
  split:
    type: distribute
    split:
      - { percent: 50, next: a }
      - { percent: 50, next: b }
  a:
    type: set
    assign:
      bucket: '"a"'
  b:
    type: set
    assign:
      bucket: '"b"'
`

func TestSetBranchDistribute(t *testing.T) {
	h := newHarness(t)
	rec := h.run(logicFlow)
	if rec.Vars["n2"] != float64(20) || rec.Vars["label"] != "twenty text" {
		t.Errorf("vars = %v", rec.Vars)
	}
	first := rec.Vars["bucket"]
	if first != "a" && first != "b" {
		t.Fatalf("bucket = %v", first)
	}
	// Distribution is deterministic per call: the same call takes the same branch.
	h2 := newHarness(t)
	if again := h2.run(logicFlow).Vars["bucket"]; again != first {
		t.Errorf("same call took %v then %v", first, again)
	}
	if !strings.Contains(path(rec), "init>decide>twenty>split>") {
		t.Errorf("path = %s", path(rec))
	}
}

const httpFlow = `
name: http-test
entry: lookup
variables:
  name: ""
  tier: ""
nodes:
  lookup:
    type: http
    method: POST
    url: "http://crm.example/customers/{{ call.from }}"
    headers:
      X-Call: "{{ call.id }}"
    body: '{"to": "{{ call.to }}"}'
    response:
      name: response.body.name
      tier: 'response.status == 200 ? response.body.tier : "none"'
    next: ok
    on_error: failed
  ok:
    type: hangup
    say: "Hi {{ vars.name }}"
  failed:
    type: hangup
    say: "Lookup failed"
`

func TestHTTP(t *testing.T) {
	t.Run("maps response", func(t *testing.T) {
		h := newHarness(t)
		h.http = func(in activities.HTTPInput) (activities.HTTPResult, error) {
			return activities.HTTPResult{Status: 200, Body: map[string]any{"name": "Ada", "tier": "gold"}}, nil
		}
		rec := h.run(httpFlow)
		if rec.Vars["name"] != "Ada" || rec.Vars["tier"] != "gold" {
			t.Errorf("vars = %v", rec.Vars)
		}
		in := h.httpIn[0]
		if in.Method != "POST" || in.URL != "http://crm.example/customers/+15550100" || in.Headers["X-Call"] != callID || in.Body != `{"to": "1000"}` {
			t.Errorf("request = %+v", in)
		}
	})
	t.Run("error path", func(t *testing.T) {
		h := newHarness(t)
		h.http = func(in activities.HTTPInput) (activities.HTTPResult, error) {
			return activities.HTTPResult{}, activities.NewHTTPStatus("GET", "http://crm.test/", 500, "500 Internal Server Error", activities.HTTPResult{Status: 500})
		}
		rec := h.run(httpFlow)
		if got := path(rec); got != "lookup>failed" {
			t.Errorf("path = %s", got)
		}
		if rec.Path[0].Outcome != "on_error" || rec.Path[0].Error == "" {
			t.Errorf("step = %+v", rec.Path[0])
		}
		if len(h.httpIn) != 1 {
			t.Errorf("POST sent %d times, want once", len(h.httpIn))
		}
	})
}

const hoursFlow = `
name: hours-test
entry: check
nodes:
  check:
    type: hours
    timezone: America/New_York
    schedule:
      mon-fri: ["09:00-17:00"]
      sat: ["10:00-12:00"]
    holidays: ["2026-12-25"]
    open: open
    closed: closed
    holiday: holiday
  open: { type: hangup, say: open }
  closed: { type: hangup, say: closed }
  holiday: { type: hangup, say: holiday }
`

func TestHours(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 10, 0, 0, 0, ny), "open"},    // Monday
		{time.Date(2026, 11, 23, 17, 0, 0, 0, ny), "closed"},  // end is exclusive
		{time.Date(2026, 11, 28, 11, 59, 0, 0, ny), "open"},   // Saturday
		{time.Date(2026, 11, 29, 11, 0, 0, 0, ny), "closed"},  // Sunday
		{time.Date(2026, 12, 25, 10, 0, 0, 0, ny), "holiday"}, // Friday, holiday
	}
	for _, tt := range tests {
		t.Run(tt.at.Format(time.RFC3339), func(t *testing.T) {
			h := newHarness(t)
			h.env.SetStartTime(tt.at)
			rec := h.run(hoursFlow)
			if got := rec.Path[len(rec.Path)-1].Node; got != tt.want {
				t.Errorf("went to %s, want %s", got, tt.want)
			}
		})
	}
}

const subflowMain = `
name: main-flow
entry: call_sub
variables:
  ok: false
nodes:
  call_sub:
    type: subflow
    flow: check-sub
    input:
      x: 41
    output:
      ok: result.y == 42
    next: bye
  bye:
    type: hangup
    say: "ok={{ vars.ok }}"
`

const subflowSub = `
name: check-sub
entry: inc
variables:
  x: 0
  y: 0
nodes:
  inc:
    type: set
    assign:
      y: vars.x + 1
`

func TestSubflow(t *testing.T) {
	for _, pinned := range []bool{true, false} {
		t.Run(map[bool]string{true: "pinned", false: "loaded"}[pinned], func(t *testing.T) {
			h := newHarness(t)
			in := engine.CallInput{Flow: activities.FlowSource{Name: "main-flow", Version: 1, Source: subflowMain}}
			if pinned {
				in.Subflows = []activities.FlowSource{{Name: "check-sub", Version: 1, Source: subflowSub}}
			} else {
				h.flows["check-sub"] = subflowSub
			}
			rec := h.runInput(in)
			if rec.Vars["ok"] != true {
				t.Errorf("vars = %v", rec.Vars)
			}
			if got := path(rec); got != "call_sub>inc>bye" {
				t.Errorf("path = %s", got)
			}
			if rec.Path[1].Flow != "check-sub" {
				t.Errorf("subflow step flow = %q", rec.Path[1].Flow)
			}
		})
	}
}

const activityFlow = `
name: activity-test
entry: lookup
variables:
  order: null
nodes:
  lookup:
    type: activity
    name: LookupOrder
    input:
      id: '"A-" + call.to'
    var: order
    max_attempts: 1
    next: bye
    on_error: failed
  bye:
    type: hangup
    say: "Order status {{ vars.order.status }}"
  failed:
    type: hangup
    say: "failed"
`

func TestCustomActivity(t *testing.T) {
	t.Run("output into var", func(t *testing.T) {
		h := newHarness(t)
		h.env.RegisterActivityWithOptions(func(ctx context.Context, in map[string]any) (map[string]any, error) {
			return map[string]any{"status": "shipped", "id": in["id"]}, nil
		}, activity.RegisterOptions{Name: "LookupOrder"})
		rec := h.run(activityFlow)
		order, _ := rec.Vars["order"].(map[string]any)
		if order["id"] != "A-1000" {
			t.Errorf("order = %v", rec.Vars["order"])
		}
		if ps := h.prompts(); ps[len(ps)-1] != "Order status shipped" {
			t.Errorf("prompts = %q", ps)
		}
	})
	t.Run("error path", func(t *testing.T) {
		h := newHarness(t)
		h.env.RegisterActivityWithOptions(func(ctx context.Context, in map[string]any) (map[string]any, error) {
			return nil, errors.New("order system down")
		}, activity.RegisterOptions{Name: "LookupOrder"})
		rec := h.run(activityFlow)
		if got := path(rec); got != "lookup>failed" || !strings.Contains(rec.Path[0].Error, "order system down") {
			t.Errorf("path = %s, step = %+v", got, rec.Path[0])
		}
	})
}

const mediaFlow = `
name: media-test
entry: wait
variables:
  message: ""
nodes:
  wait:
    type: wait
    duration: 30s
    next: queue
  queue:
    type: queue
    queue: support
    priority: "3 + 2"
    skills: '["english", "billing"]'
    next: bye
    on_timeout: vm
  vm:
    type: voicemail
    say: "Leave a message"
    var: message
    next: xfer
  xfer:
    type: transfer
    to: "sip:desk@example.com"
  bye:
    type: hangup
`

func TestWaitQueueVoicemailTransfer(t *testing.T) {
	h := newHarness(t)
	rec := h.run(mediaFlow)
	if got := path(rec); got != "wait>queue>vm>xfer" {
		t.Errorf("path = %s", got)
	}
	if rec.Outcome != records.OutcomeTransferred {
		t.Errorf("outcome = %s", rec.Outcome)
	}
	if len(h.joins) != 1 || h.joins[0].Priority != 5 || strings.Join(h.joins[0].Skills, ",") != "english,billing" || h.joins[0].Queue != "support" {
		t.Errorf("joins = %+v", h.joins)
	}
	// Nobody staffs the queue: the caller leaves it at once.
	if evs := h.said(); len(rec.Queues) != 1 || rec.Queues[0].Outcome != "unstaffed" || len(evs) != 1 || evs[0].Reason != "unstaffed" {
		t.Errorf("stays = %+v, events = %+v", rec.Queues, evs)
	}
	if rec.Vars["message"] != "text://"+callID+"/vm" || len(rec.Recordings) != 1 {
		t.Errorf("message = %v, recordings = %v", rec.Vars["message"], rec.Recordings)
	}
	if d := rec.Path[0].LeftAt.Sub(rec.Path[0].EnteredAt); d != 30*time.Second {
		t.Errorf("wait took %s of workflow time", d)
	}
}

const hangupFlow = `
name: hangup-test
entry: menu
variables:
  wrapped: false
on_hangup: wrap
nodes:
  menu:
    type: menu
    prompt: "Press 1"
    options:
      "1": bye
  bye:
    type: hangup
  wrap:
    type: set
    assign:
      wrapped: true
`

// A caller who hangs up mid-prompt: the media activity ends, on_hangup runs,
// the record says the caller hung up.
func TestCallerHangupInCollect(t *testing.T) {
	h := newHarness(t, "hangup")
	rec := h.run(hangupFlow)
	if rec.Outcome != records.OutcomeHungUp || rec.Vars["wrapped"] != true {
		t.Errorf("outcome = %s vars = %v", rec.Outcome, rec.Vars)
	}
	if got := path(rec); got != "menu>wrap" {
		t.Errorf("path = %s", got)
	}
}

// A hangup signal cancels the running media activity.
func TestHangupSignalCancelsMedia(t *testing.T) {
	env := newEnv()
	env.SetTestTimeout(10 * time.Second)
	env.RegisterWorkflowWithOptions(engine.CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	// The test environment resolves a cancelled activity without touching
	// its context, so this asserts the workflow's cancel request; the e2e
	// tests on a real server check the activity's context is cancelled.
	cancelled := make(chan string, 1)
	env.SetOnActivityCanceledListener(func(info *activity.Info) { cancelled <- info.ActivityType.Name })
	env.RegisterActivityWithOptions(func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
		select {
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
		return activities.CollectResult{Kind: activities.InputTimeout}, nil
	}, activity.RegisterOptions{Name: activities.ActCollect})
	env.RegisterActivityWithOptions(func(ctx context.Context, rec records.CDR) error { return nil },
		activity.RegisterOptions{Name: activities.ActSaveCDR})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(activities.SignalHangup, nil) }, time.Second)
	env.ExecuteWorkflow(activities.CallWorkflowName, engine.CallInput{
		Call:       flows.CallInfo{ID: "c2"},
		Flow:       activities.FlowSource{Name: "hangup-test", Version: 1, Source: hangupFlow},
		MediaQueue: "media-test",
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var rec records.CDR
	_ = env.GetWorkflowResult(&rec)
	select {
	case name := <-cancelled:
		if name != activities.ActCollect {
			t.Errorf("cancelled %s", name)
		}
	default:
		t.Error("collect activity was not cancelled")
	}
	if rec.Outcome != records.OutcomeHungUp || rec.Vars["wrapped"] != true {
		t.Errorf("outcome = %s vars = %v", rec.Outcome, rec.Vars)
	}
}

const loopFlow = `
name: loop-test
entry: tick
variables:
  n: 0
nodes:
  tick:
    type: set
    assign:
      n: vars.n + 1
    next: pause
  pause:
    type: wait
    duration: 1s
    next: tick
`

func TestMaxSteps(t *testing.T) {
	h := newHarness(t)
	rec := h.runInput(engine.CallInput{
		Flow:   activities.FlowSource{Name: "loop-test", Version: 1, Source: loopFlow},
		Limits: engine.Limits{MaxSteps: 11},
	})
	if rec.Outcome != records.OutcomeMaxSteps || rec.Vars["n"] != float64(6) || len(rec.Path) != 11 {
		t.Errorf("outcome = %s n = %v steps = %d", rec.Outcome, rec.Vars["n"], len(rec.Path))
	}
}

func TestStateQuery(t *testing.T) {
	h := newHarness(t)
	var mid engine.CallState
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(activities.QueryState)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&mid); err != nil {
			t.Errorf("decode: %v", err)
		}
	}, 10*time.Second)
	h.run(mediaFlow)
	if mid.Node != "wait" || mid.Flow != "media-test" || mid.FlowVersion != 3 || len(mid.Path) != 1 || mid.Ended {
		t.Errorf("state during wait = %+v", mid)
	}
}

func TestBadFlowIsNonRetryable(t *testing.T) {
	env := newEnv()
	env.RegisterWorkflowWithOptions(engine.CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	env.ExecuteWorkflow(activities.CallWorkflowName, engine.CallInput{
		Flow: activities.FlowSource{Name: "broken", Version: 1, Source: "name: broken\nentry: nowhere\nnodes: {}\n"},
	})
	err := env.GetWorkflowError()
	if !activities.IsBadInput(err) {
		t.Fatalf("want BadInput error, got %v", err)
	}
}

func TestMediaWorkerGoneTakesErrorPath(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(activities.CollectResult{},
		temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	const src = `
name: dead-media
entry: menu
nodes:
  menu:
    type: menu
    prompt: "Press 1"
    options: { "1": bye }
    on_error: recover
  bye: { type: hangup }
  recover:
    type: set
    assign:
      recovered: true
`
	rec := h.run(src)
	if rec.Vars["recovered"] != true || rec.Path[0].Outcome != "on_error" {
		t.Errorf("path = %+v vars = %v", rec.Path, rec.Vars)
	}
}

const errorPathsFlow = `
name: error-paths
entry: sub
variables:
  name_rec: ""
nodes:
  sub:
    type: subflow
    flow: not-published
    next: bye
    on_error: record_name
  record_name:
    type: record
    say: "Say your name after the beep"
    var: name_rec
    max_duration: 5s
    next: bridge
  bridge:
    type: transfer
    to: "sip:desk@example.com"
    mode: bridge
    next: bye
  bye:
    type: hangup
    say: "bye {{ vars.name_rec }}"
`

// A subflow that is not published takes on_error; record stores its
// reference; a bridged transfer comes back to the flow.
func TestSubflowErrorRecordBridge(t *testing.T) {
	h := newHarness(t)
	rec := h.run(errorPathsFlow)
	if got := path(rec); got != "sub>record_name>bridge>bye" {
		t.Errorf("path = %s", got)
	}
	if rec.Path[0].Outcome != "on_error" || !strings.Contains(rec.Path[0].Error, "not-published") {
		t.Errorf("subflow step = %+v", rec.Path[0])
	}
	if rec.Vars["name_rec"] != "text://"+callID+"/record_name" || rec.Outcome != records.OutcomeCompleted {
		t.Errorf("vars = %v outcome = %s", rec.Vars, rec.Outcome)
	}
}

const bridgeFlow = `
name: bridge-test
entry: desk
variables:
  desk_call: null
nodes:
  desk:
    type: transfer
    to: "sip:desk@example.com"
    mode: bridge
    record: true
    var: desk_call
    on_timeout: sorry
    next: bye
  sorry:
    type: hangup
    say: "Nobody is free."
  bye:
    type: hangup
    say: "Thanks, {{ vars.desk_call.outcome }}"
`

// A bridge that ends returns the caller to next with the bridge's
// variable; an unanswered one takes on_timeout. The activity runs with a
// start-to-close long enough for a conversation.
func TestBridgeTransferOutcomes(t *testing.T) {
	for _, c := range []struct {
		name string
		res  activities.TransferResult
		path string
		want map[string]any
	}{
		{"bridged", activities.TransferResult{Outcome: records.OutcomeBridged, Talk: 95 * time.Second, Recording: "file:///r.wav"}, "desk>bye",
			map[string]any{"outcome": "bridged", "talk_seconds": 95.0, "recording": "file:///r.wav"}},
		{"busy", activities.TransferResult{Outcome: activities.OriginateBusy, SIPStatus: 486}, "desk>sorry",
			map[string]any{"outcome": "busy", "talk_seconds": 0.0, "sip_status": 486.0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			var got activities.TransferInput
			var timeout time.Duration
			h.env.OnActivity(activities.ActTransfer, mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
					got = in
					timeout = activity.GetInfo(ctx).StartToCloseTimeout
					return c.res, nil
				})
			rec := h.run(bridgeFlow)
			if p := path(rec); p != c.path {
				t.Errorf("path = %s, want %s", p, c.path)
			}
			if !got.Record || got.Mode != "bridge" {
				t.Errorf("transfer input = %+v", got)
			}
			if timeout != engine.MaxBridgeDuration {
				t.Errorf("start-to-close = %v, want %v", timeout, engine.MaxBridgeDuration)
			}
			if r := c.res.Recording; r != "" && (len(rec.Recordings) != 1 || rec.Recordings[0] != r) {
				t.Errorf("CDR recordings = %v, want [%s]", rec.Recordings, r)
			}
			v, _ := json.Marshal(rec.Vars["desk_call"])
			w, _ := json.Marshal(c.want)
			if string(v) != string(w) {
				t.Errorf("desk_call = %s, want %s", v, w)
			}
		})
	}
}

func TestOutboundCall(t *testing.T) {
	t.Run("answered runs the flow", func(t *testing.T) {
		h := newHarness(t, "1")
		rec := h.runInput(engine.CallInput{
			Flow:     activities.FlowSource{Name: "menu-test", Version: 1, Source: menuFlow},
			Outbound: &engine.Outbound{To: "+15550100", MediaQueue: "media-test"},
		})
		if rec.Outcome != records.OutcomeCompleted || path(rec) != "hello>menu>sales>bye" {
			t.Errorf("outcome %s path %s", rec.Outcome, path(rec))
		}
	})
	t.Run("answering machine detection reaches the flow", func(t *testing.T) {
		h := newHarness(t)
		var asked bool
		h.env.OnActivity(activities.ActOriginate, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.OriginateInput) (activities.OriginateResult, error) {
				asked = in.DetectMachine
				return activities.OriginateResult{Outcome: activities.OriginateAnswered, AnsweredBy: "machine"}, nil
			})
		rec := h.runInput(engine.CallInput{
			Flow: activities.FlowSource{Name: "amd", Version: 1, Source: `name: amd
entry: who
nodes:
  who:
    type: branch
    when:
      - if: call.answered_by == "machine"
        next: message
    default: talk
  message:
    type: hangup
    say: "Your appointment is tomorrow at nine."
  talk:
    type: hangup
    say: "Hello!"
`},
			Outbound: &engine.Outbound{To: "+15550100", MediaQueue: "media-test", DetectMachine: true},
		})
		if !asked || path(rec) != "who>message" {
			t.Errorf("detect asked %v, path %s", asked, path(rec))
		}
	})
	t.Run("unanswered ends with the originate outcome", func(t *testing.T) {
		h := newHarness(t)
		h.ch.Close(callID) // nobody there to answer
		rec := h.runInput(engine.CallInput{
			Flow:     activities.FlowSource{Name: "menu-test", Version: 1, Source: menuFlow},
			Outbound: &engine.Outbound{To: "+15550100", MediaQueue: "media-test"},
		})
		if rec.Outcome != activities.OriginateNoAnswer || len(rec.Path) != 0 {
			t.Errorf("outcome %s path %s", rec.Outcome, path(rec))
		}
	})
}

// A media worker that dies mid-call: the engine notices the timeout, calls
// the caller back through another worker and resumes at the last menu.
func TestMediaLossCallsBack(t *testing.T) {
	h := newHarness(t)
	var picked int
	h.env.RegisterActivityWithOptions(func(ctx context.Context) (records.MediaWorker, error) {
		picked++
		return records.MediaWorker{ID: "b", Queue: "media-test"}, nil
	}, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	collects := 0
	var prompts [][]activities.Prompt
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			collects++
			prompts = append(prompts, in.Prompts)
			if collects == 1 {
				return activities.CollectResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, nil)
			}
			return activities.CollectResult{Kind: activities.InputDTMF, Digits: "2"}, nil
		})
	rec := h.run(menuFlow)
	if got := path(rec); got != "hello>menu>menu>billing>bye" {
		t.Errorf("path = %s", got)
	}
	if rec.Path[1].Outcome != "callback" || !strings.Contains(rec.Path[1].Error, "media worker lost") {
		t.Errorf("lost step = %+v", rec.Path[1])
	}
	if picked != 1 || rec.Outcome != records.OutcomeCompleted || rec.Vars["choice"] != "billing" {
		t.Errorf("picked %d outcome %s vars %v", picked, rec.Outcome, rec.Vars)
	}
	if len(prompts) != 2 || prompts[1][0].Text != "Sorry, we were cut off. Let's continue where we left off." {
		t.Errorf("callback prompts = %+v", prompts)
	}
}

func TestMediaLossWithoutCallbackEnds(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(activities.CollectResult{},
		temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	rec := h.runInput(engine.CallInput{
		Flow:     activities.FlowSource{Name: "hangup-test", Version: 1, Source: hangupFlow},
		Recovery: engine.Recovery{Disabled: true},
	})
	if rec.Outcome != records.OutcomeMediaLost || path(rec) != "menu>wrap" || rec.Vars["wrapped"] != true {
		t.Errorf("outcome %s path %s vars %v", rec.Outcome, path(rec), rec.Vars)
	}
}

// A voicemail ends like an answering machine's: on #, or 5 s of quiet.
func TestVoicemailEndsOnHashOrSilence(t *testing.T) {
	h := newHarness(t)
	var got activities.RecordInput
	h.env.OnActivity(activities.ActRecord, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.RecordInput) (activities.RecordResult, error) {
			got = in
			return activities.RecordResult{Ref: "file:///m.wav", Duration: 3 * time.Second}, nil
		})
	rec := h.run(`name: vm
entry: vm
nodes:
  vm:
    type: voicemail
    say: "Leave a message."
    mailbox: sales
    max_duration: 30s
    next: bye
  bye:
    type: hangup
`)
	if path(rec) != "vm>bye" {
		t.Errorf("path = %s", path(rec))
	}
	if got.Terminator != "#" || got.Silence != engine.DefaultVoicemailSilence || got.MaxDuration != 30*time.Second || got.Mailbox != "sales" {
		t.Errorf("record input = %+v", got)
	}
}

// An outbound call lost with its media worker calls the callee back, from
// the number we called them from (not our own number, the call's From).
func TestOutboundMediaLossCallsTheCalleeBack(t *testing.T) {
	h := newHarness(t, "1")
	h.env.RegisterActivityWithOptions(func(ctx context.Context) (records.MediaWorker, error) {
		return records.MediaWorker{ID: "b", Queue: "media-test"}, nil
	}, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	var dialled []activities.OriginateInput
	h.env.OnActivity(activities.ActOriginate, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.OriginateInput) (activities.OriginateResult, error) {
			dialled = append(dialled, in)
			return activities.OriginateResult{Outcome: activities.OriginateAnswered}, nil
		})
	collects := 0
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			if collects++; collects == 1 {
				return activities.CollectResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, nil)
			}
			return activities.CollectResult{Kind: activities.InputDTMF, Digits: "1"}, nil
		})
	rec := h.runInput(engine.CallInput{
		Flow:     activities.FlowSource{Name: "menu-test", Version: 1, Source: menuFlow},
		Outbound: &engine.Outbound{To: "+15550177", From: "+15550199", MediaQueue: "media-test"},
	})
	if len(dialled) != 2 || dialled[1].To != "+15550177" || dialled[1].From != "+15550199" {
		t.Fatalf("dialled %+v", dialled)
	}
	if rec.Outcome != records.OutcomeCompleted {
		t.Errorf("outcome %s path %s", rec.Outcome, path(rec))
	}
}
