package engine

import (
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// ringAgent rings the offered agent through a bridged transfer and, when
// they answer, holds the conversation. It reports true when the stay is
// over (the caller talked to the agent, or is gone) and false when the
// agent did not answer and the caller waits again.
func (c *call) ringAgent(n *flows.Node, q *stay) (bool, error) {
	o := *q.offer
	q.offer, q.agent, q.answered, q.ringing = nil, o.Agent, nil, true
	defer func() { q.ringing = false }()
	q.rec.Offers++
	var stale activities.BridgeAnswered
	for c.answerCh.ReceiveAsync(&stale) {
	}
	start := workflow.Now(c.ctx)
	in := activities.TransferInput{CallID: c.in.Call.ID, NodeID: n.ID, To: o.To, Mode: "bridge",
		Timeout: o.RingTimeout, Record: n.Record}
	var res activities.TransferResult
	err := c.mediaFor(activities.ActTransfer, in, &res, MaxBridgeDuration)
	if err != nil {
		if q.answered != nil {
			c.endConversation(q, res)
			return true, err
		}
		// Never answered: the agent is released without blame.
		reason := "failed"
		if c.hungUp {
			reason, q.rec.Outcome = records.QueueAbandoned, records.QueueAbandoned
		}
		c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueLeft, Reason: reason, Agent: o.Agent})
		return true, err
	}
	switch res.Outcome {
	case activities.OriginateNoAnswer, activities.OriginateBusy, activities.OriginateFailed:
		c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueNoAnswer, Agent: o.Agent,
			Ring: workflow.Now(c.ctx).Sub(start)})
		return false, nil
	}
	if q.answered == nil {
		// The channel did not report the answer while it rang (the text
		// channel does not ring): the answer is reported now.
		c.noteAnswer(q, activities.BridgeAnswered{To: o.To, Ring: workflow.Now(c.ctx).Sub(start) - res.Talk})
	}
	c.endConversation(q, res)
	if res.Recording != "" {
		c.recordings = append(c.recordings, res.Recording)
	}
	if res.Outcome == activities.TransferCallerHangup {
		c.markHungUp()
		return true, errCallGone
	}
	return true, nil
}

// noteAnswer records that the agent answered and tells the router at once,
// so the agent shows on call while the conversation goes on.
func (c *call) noteAnswer(q *stay, a activities.BridgeAnswered) {
	if q.answered != nil {
		return
	}
	now := workflow.Now(c.ctx)
	q.rec.Agent, q.rec.Ring, q.rec.Wait = q.agent, max(a.Ring, 0), now.Sub(q.rec.EnqueuedAt)
	q.rec.Outcome = records.QueueAnswered
	c.campaignConnected(q.agent)
	q.answered = c.sendQueueEvent(q, activities.QueueEvent{Kind: activities.QueueAnswered, Agent: q.agent, Ring: q.rec.Ring})
}

// noteSilence passes a long silence in the conversation (or its end) to
// the router, which shows it on the agent.
func (c *call) noteSilence(q *stay, s activities.BridgeSilence) {
	if q.answered == nil {
		return
	}
	ev := activities.QueueEvent{Kind: activities.QueueSilence, Agent: q.agent, Reason: "ended"}
	if s.Silent {
		ev.Reason, ev.Talk = "started", s.For
	}
	c.sendQueueEvent(q, ev)
}

// endConversation tells the router the conversation ended (after its
// answer, so the router sees them in order) and keeps the talk time.
func (c *call) endConversation(q *stay, res activities.TransferResult) {
	_ = q.answered.Get(c.ctx, nil)
	q.rec.Talk = res.Talk
	c.tellRouter(q, activities.QueueEvent{Kind: activities.QueueEnded, Agent: q.agent, Talk: res.Talk})
}

// addQueueInterrupts lets a queue stay cut an activity short: while the
// hold flow plays, an offer or the longest wait ends it (the worker stops
// its playback when the bridge to the agent starts); while an agent
// rings, their answer is passed to the router at once.
func (c *call) addQueueInterrupts(sel workflow.Selector, cancel workflow.CancelFunc, interrupt func(error)) {
	q := c.queue
	if q == nil {
		return
	}
	if q.ringing {
		sel.AddReceive(c.answerCh, func(ch workflow.ReceiveChannel, _ bool) {
			var a activities.BridgeAnswered
			ch.Receive(c.ctx, &a)
			c.noteAnswer(q, a)
		})
		sel.AddReceive(c.silenceCh, func(ch workflow.ReceiveChannel, _ bool) {
			var s activities.BridgeSilence
			ch.Receive(c.ctx, &s)
			c.noteSilence(q, s)
		})
		return
	}
	c.addQueueCases(sel, q, func(err error) {
		cancel()
		interrupt(err)
	})
}
