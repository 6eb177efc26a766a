package engine

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// changeRouting: queue nodes join the router workflow and hear the
// queue's hold flow until an agent is offered, instead of one blocking
// routing.Enqueue activity.
const (
	changeRouting  = "routing"
	routingVersion = 1
)

// Errors that end a hold-flow node early: an agent was offered, or the
// caller waited the queue's longest wait.
var (
	errOffered      = errors.New("an agent was offered")
	errQueueTimeout = errors.New("waited the queue's longest wait")
)

func isQueueInterrupt(err error) bool {
	return errors.Is(err, errOffered) || errors.Is(err, errQueueTimeout)
}

// Queue node outcomes besides the QueueStay outcomes of records.
const (
	queueUnstaffed = "unstaffed" // nobody is signed in to the queue
)

// stay is the call's current stay in a queue.
type stay struct {
	token    string
	settings activities.QueueSettings
	rec      records.QueueStay
	timer    workflow.Future // fires at the longest wait
	timedOut bool
	offer    *activities.Offer
	// ringing: a bridge to the offered agent runs; answered is when its
	// answer was forwarded to the router (the ended event waits for it).
	ringing  bool
	answered workflow.Future
	agent    string // the agent being rung
	position activities.Position
	left     string // what the caller left for (the hold flow's `leave`)
	callback string // the callback that took the caller's place
	priority int
	skills   []string
}

// accept keeps an offer of this stay; offers of an earlier stay are stale.
func (q *stay) accept(o activities.Offer) bool {
	if o.Token != q.token || q.offer != nil {
		return false
	}
	q.offer = &o
	return true
}

// runQueue hands the call to routing. Calls from before the router keep
// the blocking routing.Enqueue activity.
func (c *call) runQueue(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	if c.version(changeRouting) == workflow.DefaultVersion {
		return c.runQueueV0(f, n)
	}
	if err := c.announce(f, n); err != nil {
		return "", "", err
	}
	c.flushPrompts()
	if c.in.Simulated {
		return c.simulatedQueue(n)
	}
	if d := c.in.Campaign; d != nil && d.Agent != "" {
		return c.previewBridge(n, d.Agent)
	}
	q, res, err := c.joinQueue(n)
	if err != nil {
		return "", "", err
	}
	switch {
	case res.Full:
		q.rec.Outcome = records.QueueFull
	case res.Position.Staffed == 0:
		c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: queueUnstaffed})
		q.rec.Outcome = queueUnstaffed
	default:
		c.publishNode()
		err = c.waitInQueue(f, n, q)
	}
	c.endStay(n, q)
	if err != nil {
		return "", "", err
	}
	if c.campaignAbandon(f, q) {
		return "abandoned", "", nil
	}
	return queueExit(n, q.rec.Outcome)
}

// simulatedQueue is a simulated call's stay: no agent is ever rung for it,
// so it leaves at once as from a queue nobody staffs.
func (c *call) simulatedQueue(n *flows.Node) (string, string, error) {
	q := &stay{rec: records.QueueStay{Queue: n.Queue, EnqueuedAt: workflow.Now(c.ctx), Outcome: queueUnstaffed}}
	c.endStay(n, q)
	return queueExit(n, q.rec.Outcome)
}

// queueExit is the node's exit for how the stay ended.
func queueExit(n *flows.Node, outcome string) (string, string, error) {
	pick := func(ref string) string {
		if ref != "" {
			return ref
		}
		return n.Next
	}
	switch outcome {
	case records.QueueAnswered:
		return "next", n.Next, nil
	case records.QueueFull:
		if n.OnFull != "" {
			return "on_full", n.OnFull, nil
		}
		return "on_timeout", pick(n.OnTimeout), nil
	case records.QueueLeft:
		return "on_leave", pick(n.OnLeave), nil
	}
	return "on_timeout", pick(n.OnTimeout), nil
}

// joinQueue evaluates the node's priority and skills and joins the queue.
func (c *call) joinQueue(n *flows.Node) (*stay, activities.JoinResult, error) {
	env := c.env()
	info := workflow.GetInfo(c.ctx)
	in := activities.JoinInput{Call: info.WorkflowExecution.ID, CallID: c.in.Call.ID, Queue: n.Queue,
		From: c.in.Call.From, Token: fmt.Sprintf("%s/%d", n.ID, info.GetCurrentHistoryLength())}
	if n.Priority != nil {
		v, err := n.Priority.Eval(env)
		if err != nil {
			return nil, activities.JoinResult{}, fmt.Errorf("priority: %w", err)
		}
		p, ok := toInt(v)
		if !ok {
			return nil, activities.JoinResult{}, fmt.Errorf("priority: want a number, got %T", v)
		}
		in.Priority = p
	}
	if n.Skills != nil {
		v, err := n.Skills.Eval(env)
		if err != nil {
			return nil, activities.JoinResult{}, fmt.Errorf("skills: %w", err)
		}
		if in.Skills, err = toStrings(v); err != nil {
			return nil, activities.JoinResult{}, fmt.Errorf("skills: %w", err)
		}
	}
	var res activities.JoinResult
	o := sharedOptions{StartToClose: 10 * time.Second,
		Retry: &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}}}
	if err := c.shared(c.ctx, activities.ActJoinQueue, o, in, &res); err != nil {
		return nil, res, fmt.Errorf("join queue %q: %w", n.Queue, err)
	}
	now := workflow.Now(c.ctx)
	q := &stay{token: in.Token, settings: res.Settings, position: res.Position, priority: in.Priority, skills: in.Skills,
		rec: records.QueueStay{Queue: n.Queue, EnqueuedAt: now}}
	return q, res, nil
}

// endStay writes the stay into the call record and the node's variable.
func (c *call) endStay(n *flows.Node, q *stay) {
	if q.rec.Outcome != records.QueueAnswered {
		q.rec.Wait = workflow.Now(c.ctx).Sub(q.rec.EnqueuedAt)
	}
	c.queues = append(c.queues, q.rec)
	if n.Var == "" {
		return
	}
	v := map[string]any{"outcome": q.rec.Outcome, "wait_seconds": q.rec.Wait.Seconds()}
	if q.rec.Agent != "" {
		v["agent"], v["talk_seconds"] = q.rec.Agent, q.rec.Talk.Seconds()
	}
	if q.rec.Outcome == records.QueueLeft {
		v["left"] = q.left
	}
	if q.callback != "" {
		v["callback_id"] = q.callback
	}
	c.top().Vars[n.Var] = v
}

// tellRouter tells the router about this stay and waits until the signal
// is delivered: the server drops a signal a workflow sent if the workflow
// ends before the signal went out, and a call often ends right after
// leaving its queue.
func (c *call) tellRouter(q *stay, ev activities.QueueEvent) {
	if err := c.sendQueueEvent(q, ev).Get(disconnected(c.ctx), nil); err != nil {
		workflow.GetLogger(c.ctx).Error("tell the router", "kind", ev.Kind, "error", err)
	}
}

// sendQueueEvent tells the router about this stay, without waiting.
func (c *call) sendQueueEvent(q *stay, ev activities.QueueEvent) workflow.Future {
	ev.Call, ev.Token = workflow.GetInfo(c.ctx).WorkflowExecution.ID, q.token
	return workflow.SignalExternalWorkflow(disconnected(c.ctx), activities.RouterWorkflowID, "", activities.SignalQueueEvent, ev)
}
