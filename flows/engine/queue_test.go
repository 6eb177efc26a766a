package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows/engine"
)

// registerRouting fakes the routing activities and records what the call
// tells the router. By default nobody staffs the queue.
func (h *harness) registerRouting() {
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.JoinInput) (activities.JoinResult, error) {
		h.joins = append(h.joins, in)
		if h.join != nil {
			return h.join(in), nil
		}
		return activities.JoinResult{Settings: activities.QueueSettings{Name: in.Queue}, Position: activities.Position{Found: true, Position: 1}}, nil
	}, activity.RegisterOptions{Name: activities.ActJoinQueue})
	h.env.RegisterActivityWithOptions(func(ctx context.Context, call string) (activities.Position, error) {
		return activities.Position{Found: true, Position: 2, Waiting: 3, Staffed: 1, EstimatedWait: 90 * time.Second}, nil
	}, activity.RegisterOptions{Name: activities.ActQueuePosition})
	h.env.OnSignalExternalWorkflow(mock.Anything, activities.RouterWorkflowID, "", activities.SignalQueueEvent, mock.Anything).
		Return(func(_, _, _, _ string, arg any) error {
			h.evMu.Lock()
			defer h.evMu.Unlock()
			h.events = append(h.events, arg.(activities.QueueEvent))
			return nil
		})
}

// staffed makes joins find the queue staffed, with settings.
func (h *harness) staffed(s activities.QueueSettings) {
	h.join = func(in activities.JoinInput) activities.JoinResult {
		s.Name = in.Queue
		return activities.JoinResult{Settings: s, Position: activities.Position{Found: true, Position: 1, Staffed: 1}}
	}
}

// offerAfter signals the call an offer of agent after d (workflow time).
func (h *harness) offerAfter(d time.Duration, agent string) {
	h.env.RegisterDelayedCallback(func() {
		if len(h.joins) == 0 {
			h.t.Error("offer before the call joined")
			return
		}
		h.env.SignalWorkflow(activities.SignalOffer, activities.Offer{Token: h.joins[len(h.joins)-1].Token,
			Agent: agent, To: "agent:" + agent, RingTimeout: 10 * time.Second})
	}, d)
}

// said returns the events told to the router so far.
func (h *harness) said() []activities.QueueEvent {
	h.evMu.Lock()
	defer h.evMu.Unlock()
	return append([]activities.QueueEvent(nil), h.events...)
}

func kinds(evs []activities.QueueEvent) string {
	var out []string
	for _, e := range evs {
		k := e.Kind
		if e.Reason != "" {
			k += ":" + e.Reason
		}
		out = append(out, k)
	}
	return strings.Join(out, ",")
}

const routedFlow = `
name: routed
entry: q
variables:
  r: null
nodes:
  q:
    type: queue
    queue: support
    var: r
    next: bye
    on_timeout: late
    on_leave: vm
  vm:
    type: hangup
    say: "Leave a message."
  late:
    type: hangup
    say: "Sorry."
  bye:
    type: hangup
    say: "Thanks."
`

const holdFlow = `
name: hold
entry: announce
variables:
  queue: {}
  leave: ""
nodes:
  announce:
    type: menu
    prompt: "You are number {{ vars.queue.position }}. For a message press 1."
    options:
      "1": leave
    retries: 0
  leave:
    type: set
    assign:
      leave: '"voicemail"'
`

// An offer while the caller waits rings the agent (a bridged transfer);
// the router hears of the answer, then of the end of the conversation.
func TestQueueOfferBridges(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	h.offerAfter(45*time.Second, "alice")
	rec := h.run(routedFlow)
	if got := path(rec); got != "q>bye" {
		t.Fatalf("path = %s", got)
	}
	if got := kinds(h.said()); got != "answered,ended" {
		t.Errorf("events to the router = %s", got)
	}
	if len(rec.Queues) != 1 || rec.Queues[0].Outcome != records.QueueAnswered || rec.Queues[0].Agent != "alice" ||
		rec.Queues[0].Offers != 1 || rec.Queues[0].Wait < 45*time.Second {
		t.Errorf("stays = %+v", rec.Queues)
	}
	if r, _ := rec.Vars["r"].(map[string]any); r["outcome"] != records.QueueAnswered || r["agent"] != "alice" {
		t.Errorf("vars.r = %v", rec.Vars["r"])
	}
}

// The hold flow runs cycle after cycle with the caller's position; setting
// leave takes on_leave.
func TestQueueHoldFlowLeave(t *testing.T) {
	h := newHarness(t, "", "1")
	h.flows["hold"] = holdFlow
	h.staffed(activities.QueueSettings{HoldFlow: "hold", AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	rec := h.run(routedFlow)
	if got := path(rec); got != "q>announce>announce>leave>vm" {
		t.Fatalf("path = %s", got)
	}
	if got := kinds(h.said()); got != "left:voicemail" {
		t.Errorf("events = %s", got)
	}
	if r, _ := rec.Vars["r"].(map[string]any); r["outcome"] != records.QueueLeft || r["left"] != "voicemail" {
		t.Errorf("vars.r = %v", rec.Vars["r"])
	}
	if said := strings.Join(h.prompts(), "|"); !strings.Contains(said, "You are number 2") {
		t.Errorf("prompts: %s", said)
	}
}

// Nobody offered in the queue's longest wait: on_timeout.
func TestQueueTimeout(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: 2 * time.Minute})
	rec := h.run(routedFlow)
	if got := path(rec); got != "q>late" {
		t.Fatalf("path = %s", got)
	}
	if got := kinds(h.said()); got != "left:timeout" {
		t.Errorf("events = %s", got)
	}
	if rec.Queues[0].Wait != 2*time.Minute {
		t.Errorf("wait = %v", rec.Queues[0].Wait)
	}
}

// A caller who hangs up while waiting is abandoned.
func TestQueueAbandoned(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(activities.SignalHangup, nil) }, 50*time.Second)
	rec := h.run(routedFlow)
	if got := kinds(h.said()); got != "left:abandoned" {
		t.Errorf("events = %s", got)
	}
	if rec.Outcome != records.OutcomeHungUp || rec.Queues[0].Outcome != records.QueueAbandoned {
		t.Errorf("outcome %s, stays %+v", rec.Outcome, rec.Queues)
	}
}

// An offer of an earlier stay (another token) is ignored.
func TestQueueStaleOffer(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: 2 * time.Minute})
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(activities.SignalOffer, activities.Offer{Token: "old/1", Agent: "bob", To: "agent:bob"})
	}, 30*time.Second)
	rec := h.run(routedFlow)
	if got := path(rec); got != "q>late" || rec.Queues[0].Offers != 0 {
		t.Fatalf("path = %s, stays %+v", got, rec.Queues)
	}
}

const callbackHold = `
name: hold
entry: announce
variables:
  queue: {}
  leave: ""
nodes:
  announce:
    type: menu
    prompt: "For a call back press 2."
    options:
      "2": cb
    retries: 0
  cb:
    type: set
    assign:
      leave: '"callback"'
`

// Choosing a callback in the hold flow hands the caller's place to a
// callback workflow (started as an abandoned child, keeping the time the
// caller joined), then takes on_leave.
func TestQueueHoldFlowCallback(t *testing.T) {
	h := newHarness(t, "2")
	h.flows["hold"] = callbackHold
	h.staffed(activities.QueueSettings{HoldFlow: "hold", AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	var got engine.CallbackInput
	h.env.OnWorkflow(activities.CallbackWorkflowName, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in engine.CallbackInput) (records.CDR, error) {
			got = in
			return records.CDR{}, nil
		})
	rec := h.run(routedFlow)
	if got := path(rec); got != "q>announce>cb>vm" {
		t.Fatalf("path = %s", got)
	}
	if got.Queue != "support" || got.Number != "+15550100" || got.ID != callID || !got.Since.Equal(rec.Queues[0].EnqueuedAt) {
		t.Errorf("callback input = %+v, stay %+v", got, rec.Queues[0])
	}
	if r, _ := rec.Vars["r"].(map[string]any); r["left"] != "callback" || r["callback_id"] != callID {
		t.Errorf("vars.r = %v", rec.Vars["r"])
	}
	if got := kinds(h.said()); got != "left:callback" {
		t.Errorf("events = %s", got)
	}
}

// A callback waits its turn with nobody on the line; at the first offer
// the caller does not answer (the agent is released without blame), so it
// tries again after the retry delay, keeping its place: the caller answers,
// the agent is rung and they talk. The store hears each state.
func TestCallbackRetriesThenConnects(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{MaxWait: time.Hour})
	var states []string
	h.env.RegisterActivityWithOptions(func(ctx context.Context, cb activities.CallbackRecord) error {
		states = append(states, cb.State)
		return nil
	}, activity.RegisterOptions{Name: activities.ActSaveCallback})
	h.env.RegisterActivityWithOptions(func(ctx context.Context) (records.MediaWorker, error) {
		return records.MediaWorker{ID: "test", Queue: h.ch.Queue()}, nil
	}, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	since := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	h.offerAfter(10*time.Second, "bob")
	// The caller's phone is reachable only for the second try.
	h.env.RegisterDelayedCallback(func() { h.ch.Open(activities.CallbackCallID("x"), nil) }, 30*time.Second)
	h.offerAfter(2*time.Minute, "alice")
	h.env.ExecuteWorkflow(activities.CallbackWorkflowName, engine.CallbackInput{ID: "x", Queue: "support", Number: "+15550100",
		Since: since, MaxAttempts: 3, RetryDelay: time.Minute})
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var rec records.CDR
	if err := h.env.GetWorkflowResult(&rec); err != nil {
		t.Fatal(err)
	}
	if got := kinds(h.said()); got != "left:callback_no_answer,answered,ended" {
		t.Errorf("events = %s", got)
	}
	if len(rec.Queues) != 1 || rec.Queues[0].CallbackAttempts != 2 || rec.Queues[0].Agent != "alice" || rec.Queues[0].Outcome != records.QueueAnswered {
		t.Errorf("stays = %+v", rec.Queues)
	}
	if len(h.joins) != 2 || !h.joins[0].Since.Equal(since) || !h.joins[1].Since.Equal(since) {
		t.Errorf("joins = %+v, want both keeping the place of %v", h.joins, since)
	}
	if got := strings.Join(states, ","); got != "scheduled,waiting,dialing,waiting,dialing,done" {
		t.Errorf("states = %s", got)
	}
}

// While the caller talks to the agent, the media worker's word of a long
// silence goes on to the router.
func TestQueueSilenceForwarded(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	h.offerAfter(5*time.Second, "alice")
	// The text channel bridges at once: stand in for a bridge that lasts.
	h.env.OnActivity(activities.ActTransfer, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
			h.env.SignalWorkflow(activities.SignalBridgeAnswered, activities.BridgeAnswered{To: in.To, Ring: time.Second})
			h.env.SignalWorkflow(activities.SignalBridgeSilence, activities.BridgeSilence{Silent: true, For: 30 * time.Second})
			// The conversation goes on until the call has told the router.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if strings.Contains(kinds(h.said()), "silence:started") {
					break
				}
			}
			return activities.TransferResult{Outcome: activities.TransferBridged, Talk: time.Minute}, nil
		})
	rec := h.run(routedFlow)
	// The answer and the silence go out as they come (in either order
	// here); the end waits for the answer's delivery.
	got := kinds(h.said())
	if got != "answered,silence:started,ended" && got != "silence:started,answered,ended" {
		t.Errorf("events = %s (path %s)", got, path(rec))
	}
}

// A simulated call never joins a queue: it leaves as from a queue nobody
// staffs, so the designer's simulator never rings a real agent.
func TestQueueSimulatedCall(t *testing.T) {
	h := newHarness(t)
	h.staffed(activities.QueueSettings{MaxWait: time.Hour})
	src := routedFlow
	rec := h.runInput(engine.CallInput{Flow: activities.FlowSource{Name: flowName(t, src), Version: 3, Source: src}, Simulated: true})
	if got := path(rec); got != "q>late" || len(h.joins) != 0 || len(h.said()) != 0 {
		t.Fatalf("path %s, joins %v, events %v", got, h.joins, h.said())
	}
	if rec.Queues[0].Outcome != "unstaffed" {
		t.Errorf("stay %+v", rec.Queues[0])
	}
}
