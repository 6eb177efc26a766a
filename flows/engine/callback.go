package engine

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// Callback defaults.
const (
	DefaultCallbackAttempts = 3
	DefaultCallbackRetry    = 5 * time.Minute
	DefaultCallbackRing     = 30 * time.Second
	// callbackMaxWait bounds a callback's wait in the queue.
	callbackMaxWait = 24 * time.Hour
)

// CallbackInput asks to call a caller back from a queue.
type CallbackInput struct {
	ID     string `json:"id"`
	Queue  string `json:"queue"`
	Number string `json:"number"` // whom to call: a SIP URI or a number
	From   string `json:"from,omitempty"`
	// CallID is the call that asked for the callback ("" when scheduled
	// through the API).
	CallID   string   `json:"call_id,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Skills   []string `json:"skills,omitempty"`
	// Since is the caller's place in line (zero: when the callback joins).
	Since time.Time `json:"since,omitempty"`
	// DueAt schedules the callback (zero: now); Timezone is the caller's,
	// kept for the record.
	DueAt       time.Time     `json:"due_at,omitempty"`
	Timezone    string        `json:"timezone,omitempty"`
	MaxAttempts int           `json:"max_attempts,omitempty"`
	RetryDelay  time.Duration `json:"retry_delay,omitempty"`
	RingTimeout time.Duration `json:"ring_timeout,omitempty"`
}

// callbackFlow is what the caller hears once they answer: the agent is
// already reserved, so only a short line before the bridge, and goodbye
// when the agent hangs up first.
const callbackFlow = `name: callback
entry: connect
nodes:
  connect:
    type: queue
    queue: callback
    say: "Hello, this is your call back. Connecting you to an agent now."
    next: bye
  bye:
    type: hangup
    say: "Thank you for waiting. Goodbye."
`

// CallbackWorkflow calls a caller back, agent first: it waits until its
// time, keeps the caller's place in the queue, and when the router offers
// an agent it dials the caller and, once they answer, rings the agent. An
// unanswered caller releases the agent (no blame) and is tried again after
// RetryDelay, up to MaxAttempts; the call record says how it ended.
func CallbackWorkflow(ctx workflow.Context, in CallbackInput) (records.CDR, error) {
	c, n, err := newCallbackCall(ctx, in)
	if err != nil {
		return records.CDR{}, err
	}
	c.saveCallback(in, activities.CallbackScheduled, 0, "", "")
	if wait := in.DueAt.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return records.CDR{}, err
		}
	}
	stay := c.callBack(in, n)
	c.queues = append(c.queues, stay.rec)
	state := activities.CallbackDone
	if stay.rec.Outcome != records.QueueAnswered {
		state, c.outcome = activities.CallbackFailed, stay.rec.Outcome
	}
	c.saveCallback(in, state, stay.rec.CallbackAttempts, stay.rec.Outcome, stay.rec.Agent)
	c.finish()
	rec := c.record()
	c.saveCDR(rec)
	return rec, nil
}

// newCallbackCall is the interpreter state of a callback: the call facts
// and the built-in callback flow, whose queue node is the callback's.
func newCallbackCall(ctx workflow.Context, in CallbackInput) (*call, *flows.Node, error) {
	c := &call{ctx: ctx, flows: map[string]*flows.Flow{}, fast: true, maxSteps: flows.DefaultMaxSteps}
	c.in = CallInput{Call: flows.CallInfo{ID: activities.CallbackCallID(in.ID), From: in.From, To: in.Number, Channel: "sip",
		StartedAt: workflow.Now(ctx)}, Flow: activities.FlowSource{Name: "callback", Version: 1, Source: callbackFlow}}
	f, err := c.parse(c.in.Flow)
	if err != nil {
		return nil, nil, err
	}
	c.stack = []Frame{{Flow: f.Name, Node: f.Entry, Vars: map[string]any{}}}
	c.hangupCh = workflow.GetSignalChannel(ctx, activities.SignalHangup)
	c.lostCh = workflow.GetSignalChannel(ctx, activities.SignalMediaLost)
	c.offerCh = workflow.GetSignalChannel(ctx, activities.SignalOffer)
	c.answerCh = workflow.GetSignalChannel(ctx, activities.SignalBridgeAnswered)
	c.silenceCh = workflow.GetSignalChannel(ctx, activities.SignalBridgeSilence)
	n := *f.Nodes[f.Entry]
	n.Queue = in.Queue
	c.hungUp = true // no caller on the line until one answers
	return c, &n, nil
}

// callBack waits for agents and dials the caller until they talk to one,
// or every attempt went unanswered.
func (c *call) callBack(in CallbackInput, n *flows.Node) *stay {
	attempts := orInt(in.MaxAttempts, DefaultCallbackAttempts)
	q := &stay{rec: records.QueueStay{Queue: in.Queue, EnqueuedAt: orTime(in.Since, workflow.Now(c.ctx))}}
	join := true
	for q.rec.CallbackAttempts < attempts {
		if join && !c.callbackJoin(in, n, q) {
			return q
		}
		c.saveCallback(in, activities.CallbackWaiting, q.rec.CallbackAttempts, "", "")
		if !c.awaitOffer(q) {
			q.rec.Outcome = records.QueueTimeout
			c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: records.QueueTimeout})
			return q
		}
		q.rec.CallbackAttempts++
		c.saveCallback(in, activities.CallbackDialing, q.rec.CallbackAttempts, "", q.offer.Agent)
		answered, done := c.dialCaller(in, n, q)
		if done {
			return q
		}
		// An unanswered caller left the queue: try again later, in the same
		// place. When the agent did not answer, the router kept the
		// callback at the front: wait for the next agent at once.
		join = !answered
		if join && q.rec.CallbackAttempts < attempts {
			_ = workflow.Sleep(c.ctx, orDuration(in.RetryDelay, DefaultCallbackRetry))
		}
	}
	q.rec.Outcome = records.QueueCallback
	return q
}

// callbackJoin joins the queue again, keeping the caller's place.
func (c *call) callbackJoin(in CallbackInput, n *flows.Node, q *stay) bool {
	info := workflow.GetInfo(c.ctx)
	jin := activities.JoinInput{Call: info.WorkflowExecution.ID, CallID: c.in.Call.ID, Queue: in.Queue, Priority: in.Priority,
		Skills: in.Skills, From: in.Number, Since: q.rec.EnqueuedAt,
		Token: fmt.Sprintf("%s/%d", n.ID, info.GetCurrentHistoryLength())}
	var res activities.JoinResult
	o := sharedOptions{StartToClose: 10 * time.Second, ScheduleToClose: time.Hour,
		Retry: &temporal.RetryPolicy{MaximumInterval: time.Minute, NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}}}
	if err := c.shared(c.ctx, activities.ActJoinQueue, o, jin, &res); err != nil || res.Full {
		workflow.GetLogger(c.ctx).Error("callback cannot join its queue", "queue", in.Queue, "full", res.Full, "error", err)
		q.rec.Outcome = records.QueueFull
		return false
	}
	q.token, q.settings, q.offer, q.timedOut = jin.Token, res.Settings, nil, false
	q.timer = workflow.NewTimer(c.ctx, callbackMaxWait)
	return true
}

// awaitOffer waits, with nobody on the line, for the router's offer.
func (c *call) awaitOffer(q *stay) bool {
	for q.offer == nil && !q.timedOut {
		c.queue = q
		c.queueSleep(q, callbackMaxWait)
		c.queue = nil
	}
	return q.offer != nil
}

// dialCaller calls the caller while the offered agent stays reserved; on
// an answer it rings the agent and holds the conversation. It reports
// whether the caller answered and whether the callback is over.
func (c *call) dialCaller(in CallbackInput, n *flows.Node, q *stay) (answered, done bool) {
	res, err := c.originate(activities.OriginateInput{To: in.Number, From: in.From, Timeout: orDuration(in.RingTimeout, DefaultCallbackRing)}, "")
	outcome := res.Outcome
	if err != nil || outcome != activities.OriginateAnswered {
		// The caller did not answer: the agent goes back without blame.
		c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: "callback_" + outcome, Agent: q.offer.Agent})
		q.offer = nil
		return false, false
	}
	c.hungUp, c.outcome = false, ""
	c.queue = q
	defer func() { c.queue = nil }()
	f := c.flows["callback"]
	if err := c.announce(f, n); err != nil {
		workflow.GetLogger(c.ctx).Warn("callback greeting", "error", err)
	}
	c.flushPrompts()
	done, _ = c.ringAgent(n, q)
	if q.rec.Outcome == records.QueueAnswered {
		_ = c.media(activities.ActHangup, activities.HangupInput{CallID: c.in.Call.ID,
			Prompts: []activities.Prompt{{Text: "Thank you for waiting. Goodbye.", Language: f.Settings.Language}}, Reason: "callback done"}, nil)
		c.hungUp = true
		return true, true
	}
	// The agent did not answer: the caller hears why and the callback
	// waits for another agent (the router put it back at the front).
	_ = c.media(activities.ActHangup, activities.HangupInput{CallID: c.in.Call.ID,
		Prompts: []activities.Prompt{{Text: "Sorry, the agent is not free after all. We will call you again.", Language: f.Settings.Language}}}, nil)
	c.hungUp = true
	return true, done
}

// saveCallback keeps the callback's state in the store (best effort: the
// workflow, not the row, is what makes the callback happen).
func (c *call) saveCallback(in CallbackInput, state string, attempts int, outcome, agent string) {
	rec := activities.CallbackRecord{ID: in.ID, Queue: in.Queue, Number: in.Number, CallID: orString(in.CallID, c.in.Call.ID),
		Timezone: in.Timezone, DueAt: orTime(in.DueAt, c.in.Call.StartedAt), State: state, Attempts: attempts,
		Outcome: outcome, Agent: agent}
	o := sharedOptions{StartToClose: 10 * time.Second, ScheduleToClose: time.Minute}
	if err := c.shared(disconnected(c.ctx), activities.ActSaveCallback, o, rec, nil); err != nil {
		workflow.GetLogger(c.ctx).Warn("save callback state", "id", in.ID, "state", state, "error", err)
	}
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// leaveCallback is the hold flow's `leave` that asks to be called back.
const leaveCallback = "callback"

// startCallback hands the caller's place in line to a callback: a workflow
// of its own that outlives this call, dials the caller's number when an
// agent is reserved, and keeps the time this stay began.
func (c *call) startCallback(q *stay) {
	id := c.in.Call.ID
	in := CallbackInput{ID: id, Queue: q.rec.Queue, Number: c.callbackNumber(), CallID: id,
		Priority: q.priority, Skills: q.skills, Since: q.rec.EnqueuedAt}
	ctx := workflow.WithChildOptions(c.ctx, workflow.ChildWorkflowOptions{
		WorkflowID: activities.CallbackWorkflowID(id), TaskQueue: activities.EngineQueue,
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
	})
	child := workflow.ExecuteChildWorkflow(ctx, activities.CallbackWorkflowName, in)
	var started workflow.Execution
	if err := child.GetChildWorkflowExecution().Get(c.ctx, &started); err != nil {
		workflow.GetLogger(c.ctx).Error("start callback", "error", err)
		q.left = "callback_failed"
		return
	}
	q.callback = id
}

// callbackNumber is where to call the caller back: the number they called
// from, or the recovery's callback address when the channel gave one.
func (c *call) callbackNumber() string {
	if c.in.Recovery.CallbackTo != "" {
		return c.in.Recovery.CallbackTo
	}
	return c.in.Call.From
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
