package engine

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// DefaultAnnounceEvery is a hold cycle's length when the queue names none.
const DefaultAnnounceEvery = 30 * time.Second

// waitInQueue holds the caller in the queue: hold-flow cycles until an
// agent is offered, the longest wait passes, the caller hangs up or
// chooses to leave. An offer rings the agent; an unanswered one puts the
// caller back to waiting (the router kept their place).
func (c *call) waitInQueue(f *flows.Flow, n *flows.Node, q *stay) error {
	wait := n.Timeout.Or(q.settings.MaxWait)
	if wait <= 0 {
		wait = DefaultQueueTimeout
	}
	wait = c.queueWait(wait)
	tctx, stop := workflow.WithCancel(c.ctx)
	defer stop()
	q.timer = workflow.NewTimer(tctx, wait)
	c.queue = q
	defer func() { c.queue = nil }()
	for {
		c.pollHangup()
		c.pollQueue(q)
		switch {
		case c.hungUp:
			q.rec.Outcome = records.QueueAbandoned
			c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: records.QueueAbandoned})
			return errCallGone
		case q.offer != nil:
			if done, err := c.ringAgent(n, q); done || err != nil {
				return err
			}
			continue
		case q.timedOut:
			q.rec.Outcome = records.QueueTimeout
			c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: records.QueueTimeout})
			return nil
		}
		if left := c.holdCycle(q); left != "" {
			q.left, q.rec.Outcome = left, records.QueueLeft
			if left == leaveCallback {
				c.startCallback(q)
			}
			c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: left})
			return nil
		}
	}
}

// pollQueue takes offers and the longest-wait timer without blocking.
func (c *call) pollQueue(q *stay) {
	var o activities.Offer
	for c.offerCh.ReceiveAsync(&o) {
		q.accept(o)
	}
	if !q.timedOut && q.timer.IsReady() {
		q.timedOut = true
	}
}

// addQueueCases makes a selector end (interrupt) on an offer or on the
// longest wait.
func (c *call) addQueueCases(sel workflow.Selector, q *stay, interrupt func(error)) {
	sel.AddReceive(c.offerCh, func(ch workflow.ReceiveChannel, _ bool) {
		var o activities.Offer
		ch.Receive(c.ctx, &o)
		if q.accept(o) {
			interrupt(errOffered)
		}
	})
	if !q.timedOut {
		sel.AddFuture(q.timer, func(workflow.Future) {
			q.timedOut = true
			interrupt(errQueueTimeout)
		})
	}
}

// holdCycle runs the queue's hold flow once (with the caller's position
// in `vars.queue`) and then waits out the rest of AnnounceEvery. It
// returns what the caller chose to leave for (the flow's `leave`), if
// anything.
func (c *call) holdCycle(q *stay) string {
	start := workflow.Now(c.ctx)
	c.refreshPosition(q)
	if name := q.settings.HoldFlow; name != "" {
		hold, err := c.subflow(name)
		if err != nil {
			workflow.GetLogger(c.ctx).Warn("hold flow unavailable; the caller waits in silence", "flow", name, "error", err)
		} else if left := c.runHold(hold, q); left != "" {
			return left
		}
	}
	if c.hungUp || q.offer != nil || q.timedOut {
		return ""
	}
	every := q.settings.AnnounceEvery
	if every <= 0 {
		every = DefaultAnnounceEvery
	}
	if rest := start.Add(every).Sub(workflow.Now(c.ctx)); rest > 0 {
		c.queueSleep(q, rest)
	}
	return ""
}

// runHold runs the hold flow in a frame of its own until it ends or the
// wait is interrupted; the frame is dropped either way.
func (c *call) runHold(hold *flows.Flow, q *stay) string {
	base := len(c.stack)
	vars := initialVars(hold)
	vars["queue"] = queueVars(q)
	c.stack = append(c.stack, Frame{Flow: hold.Name, Node: hold.Entry, Vars: vars})
	ended := false
	for len(c.stack) > base {
		c.pollHangup()
		c.pollQueue(q)
		if c.hungUp || q.offer != nil || q.timedOut || c.steps >= c.maxSteps {
			break
		}
		if c.top().Node == "" {
			if len(c.stack) == base+1 {
				ended = true
				break
			}
			c.returnFromSubflow()
			continue
		}
		c.steps++
		c.step()
	}
	if len(c.stack) <= base { // a hangup node in the hold flow cut the stack
		return ""
	}
	left, _ := c.stack[base].Vars["leave"].(string)
	c.stack = c.stack[:base]
	if !ended {
		return ""
	}
	return left
}

// queueVars is what a hold flow sees as vars.queue.
func queueVars(q *stay) map[string]any {
	p := q.position
	v := map[string]any{"name": q.rec.Queue, "position": float64(p.Position), "waiting": float64(p.Waiting),
		"waited_seconds": p.Waited.Seconds(), "estimated_wait_seconds": -1.0, "estimated_wait_minutes": -1.0}
	if p.EstimatedWait >= 0 {
		v["estimated_wait_seconds"] = p.EstimatedWait.Round(time.Second).Seconds()
		v["estimated_wait_minutes"] = float64(int((p.EstimatedWait + 59*time.Second) / time.Minute))
	}
	return v
}

// refreshPosition asks the router where the call stands; on failure the
// last answer stands.
func (c *call) refreshPosition(q *stay) {
	o := sharedOptions{StartToClose: 5 * time.Second}
	var p activities.Position
	call := workflow.GetInfo(c.ctx).WorkflowExecution.ID
	if err := c.shared(c.ctx, activities.ActQueuePosition, o, call, &p); err != nil {
		workflow.GetLogger(c.ctx).Warn("queue position", "error", err)
		return
	}
	if p.Found {
		q.position = p
	}
}

// queueSleep waits d unless a hangup, an offer or the longest wait comes first.
func (c *call) queueSleep(q *stay, d time.Duration) {
	ctx, cancel := workflow.WithCancel(c.ctx)
	defer cancel()
	done := false
	sel := workflow.NewSelector(c.ctx)
	sel.AddFuture(workflow.NewTimer(ctx, d), func(workflow.Future) { done = true })
	sel.AddReceive(c.hangupCh, func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(c.ctx, nil)
		c.markHungUp()
		done = true
	})
	c.addQueueCases(sel, q, func(error) { done = true })
	for !done {
		sel.Select(c.ctx)
	}
}
