package engine

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// A campaign's dial (CallInput.Campaign) runs like any outbound call, and
// besides: it tells its campaign workflow when the callee answered, when
// an agent took the call and how it ended; a machine is hung up on or
// left a message after the beep, per the campaign; and a live answer that
// no agent takes within the abandon limit of the end of the greeting
// hears the campaign's message and ends as abandoned (47 CFR
// 64.1200(a)(7)). Only calls with CallInput.Campaign take these paths, so
// no recorded history replays differently.

// Invalid-number SIP statuses: not found, address incomplete, ambiguous,
// does not exist anywhere.
var invalidNumberStatus = map[int]bool{404: true, 484: true, 485: true, 604: true}

// campaignDialed notes the originate result and tells the campaign who
// answered.
func (c *call) campaignDialed(res activities.OriginateResult) {
	d := c.in.Campaign
	if d == nil {
		return
	}
	d.Dialed, d.SIPStatus, d.AnsweredBy = res.Outcome, res.SIPStatus, res.AnsweredBy
	if res.Outcome != activities.OriginateAnswered {
		return
	}
	now := workflow.Now(c.ctx)
	d.AnsweredAt, d.GreetingEndedAt = orTime(res.AnsweredAt, now), res.GreetingEndedAt
	if d.GreetingEndedAt.IsZero() || d.GreetingEndedAt.After(now) {
		// Unknown: the clock starts now, when the call reaches the flow.
		d.GreetingEndedAt = now
	}
	c.tellCampaign(activities.CampaignCallEvent{Stage: activities.CampaignCallAnswered, AnsweredBy: d.AnsweredBy})
}

// campaignMachine ends a call a machine answered when the campaign does
// not leave the flow to decide: at once, or after leaving its message.
func (c *call) campaignMachine() {
	d := c.in.Campaign
	if d == nil || d.AnsweredBy != "machine" || d.Machine == records.MachineFlow {
		return
	}
	var prompts []activities.Prompt
	reason := "answering machine"
	if d.Machine == records.MachineMessage && d.MachineText != "" {
		f := c.flows[c.in.Flow.Name]
		prompts = []activities.Prompt{{Node: "campaign", Text: d.MachineText, Language: f.Settings.Language, Voice: f.Settings.Voice}}
		reason = "message left"
	}
	c.endCampaignCall(prompts, reason)
	c.outcome = records.AttemptMachine
}

// endCampaignCall hangs up (after prompts) and skips the flow.
func (c *call) endCampaignCall(prompts []activities.Prompt, reason string) {
	in := activities.HangupInput{CallID: c.in.Call.ID, Prompts: c.takePrompts(prompts), Reason: reason}
	if err := c.media(activities.ActHangup, in, nil); err != nil {
		workflow.GetLogger(c.ctx).Warn("campaign hangup", "error", err)
	}
	c.hungUp, c.inHangup = true, true
	c.stack = c.stack[:1]
	c.stack[0].Node = ""
}

// abandonDeadline bounds a campaign call's wait for an agent: the abandon
// limit after the end of the greeting. ok is false when no limit applies
// (not a campaign's live answer, or an agent already took it once).
func (c *call) abandonDeadline() (time.Time, bool) {
	d := c.in.Campaign
	if d == nil || d.AbandonAfter <= 0 || d.Dialed != activities.OriginateAnswered || d.ConnectedTo != "" {
		return time.Time{}, false
	}
	return d.GreetingEndedAt.Add(d.AbandonAfter), true
}

// queueWait is a queue node's longest wait, cut to the abandon deadline.
func (c *call) queueWait(wait time.Duration) time.Duration {
	if at, ok := c.abandonDeadline(); ok {
		wait = min(wait, max(at.Sub(workflow.Now(c.ctx)), time.Millisecond))
	}
	return wait
}

// campaignAbandon ends a live answer no agent took in time: the callee
// hears the campaign's message (who called, and how to opt out) and the
// call ends as abandoned. It reports whether it did.
func (c *call) campaignAbandon(f *flows.Flow, q *stay) bool {
	if _, ok := c.abandonDeadline(); !ok || q.rec.Outcome == records.QueueAnswered || c.hungUp {
		return false
	}
	d := c.in.Campaign
	d.Abandoned = true
	var prompts []activities.Prompt
	if d.AbandonText != "" {
		prompts = []activities.Prompt{{Node: "campaign", Text: d.AbandonText, Language: f.Settings.Language, Voice: f.Settings.Voice}}
	}
	c.endCampaignCall(prompts, "abandoned: no agent free")
	c.outcome = records.AttemptAbandoned
	return true
}

// campaignConnected tells the campaign an agent took the call.
func (c *call) campaignConnected(agent string) {
	d := c.in.Campaign
	if d == nil || d.ConnectedTo != "" {
		return
	}
	now := workflow.Now(c.ctx)
	d.ConnectedTo = agent
	if !d.GreetingEndedAt.IsZero() {
		d.Connect = max(now.Sub(d.GreetingEndedAt), 0)
	}
	// An agent offered in time whose phone answered after the limit still
	// counts as abandoned (no agent was connected within it); the person
	// talks to the agent, so the campaign does not call them again.
	if d.AbandonAfter > 0 && d.Connect > d.AbandonAfter {
		d.Abandoned = true
	}
	c.tellCampaign(activities.CampaignCallEvent{Stage: activities.CampaignCallConnected, Agent: agent, Connect: d.Connect})
}

// campaignEnded tells the campaign how the dial ended, and waits until
// the signal is out (a workflow's pending signals die with it).
func (c *call) campaignEnded() {
	d := c.in.Campaign
	if d == nil {
		return
	}
	ev := activities.CampaignCallEvent{Stage: activities.CampaignCallEnded, Outcome: c.attemptOutcome(),
		SIPStatus: d.SIPStatus, AnsweredBy: d.AnsweredBy, Agent: d.ConnectedTo, Connect: d.Connect, Abandoned: d.Abandoned}
	for _, q := range c.queues {
		if q.Agent != "" && q.Agent == d.ConnectedTo {
			ev.Talk += q.Talk
		}
	}
	if v, ok := c.stack[0].Vars["disposition"].(string); ok {
		ev.Disposition = v
	}
	if err := c.signalCampaign(ev).Get(disconnected(c.ctx), nil); err != nil {
		workflow.GetLogger(c.ctx).Warn("tell the campaign the call ended", "error", err)
	}
}

// attemptOutcome is what the dial came to, in the campaign's terms.
func (c *call) attemptOutcome() string {
	d := c.in.Campaign
	switch {
	case d.Abandoned:
		return records.AttemptAbandoned
	case c.outcome == records.OutcomeMediaLost:
		return records.AttemptFailed // cut short: retried by the failed rule
	case d.Dialed == activities.OriginateBusy:
		return records.AttemptBusy
	case d.Dialed == activities.OriginateNoAnswer:
		return records.AttemptNoAnswer
	case d.Dialed != activities.OriginateAnswered && invalidNumberStatus[d.SIPStatus]:
		return records.AttemptInvalid
	case d.Dialed != activities.OriginateAnswered:
		return records.AttemptFailed
	case d.AnsweredBy == "machine":
		return records.AttemptMachine
	}
	return records.AttemptHuman
}

// tellCampaign signals the campaign without waiting.
func (c *call) tellCampaign(ev activities.CampaignCallEvent) {
	c.signalCampaign(ev)
}

func (c *call) signalCampaign(ev activities.CampaignCallEvent) workflow.Future {
	d := c.in.Campaign
	ev.CallID, ev.Contact, ev.Attempt, ev.At = c.in.Call.ID, d.Contact, d.Attempt, workflow.Now(c.ctx)
	return workflow.SignalExternalWorkflow(disconnected(c.ctx), activities.CampaignWorkflowID(d.Campaign), "",
		activities.SignalCampaignCall, ev)
}

// campaignTag tags the CDR of a campaign's dial.
func (c *call) campaignTag() *records.CampaignCall {
	if c.in.Campaign == nil {
		return nil
	}
	tag := c.in.Campaign.CampaignCall
	return &tag
}

// previewRing is how long a preview call rings its agent, who asked for it.
const previewRing = 20 * time.Second

// previewBridge connects a preview dial to the agent who clicked to dial
// it, not through the queue: the agent chose this contact. The stay is
// recorded under the node's queue.
func (c *call) previewBridge(n *flows.Node, agent string) (string, string, error) {
	q := &stay{rec: records.QueueStay{Queue: n.Queue, EnqueuedAt: workflow.Now(c.ctx), Offers: 1}}
	in := activities.TransferInput{CallID: c.in.Call.ID, NodeID: n.ID, To: "agent:" + agent, Mode: "bridge",
		Timeout: previewRing, Record: n.Record}
	var res activities.TransferResult
	err := c.mediaFor(activities.ActTransfer, in, &res, MaxBridgeDuration)
	switch {
	case err != nil:
		q.rec.Outcome = records.QueueAbandoned
	case res.Outcome == activities.OriginateNoAnswer || res.Outcome == activities.OriginateBusy || res.Outcome == activities.OriginateFailed:
		q.rec.Outcome = records.QueueTimeout
	default:
		q.rec.Outcome, q.rec.Agent, q.rec.Talk = records.QueueAnswered, agent, res.Talk
		c.campaignConnected(agent)
		if res.Recording != "" {
			c.recordings = append(c.recordings, res.Recording)
		}
		if res.Outcome == activities.TransferCallerHangup {
			c.markHungUp()
		}
	}
	c.endStay(n, q)
	if err != nil {
		return "", "", err
	}
	return queueExit(n, q.rec.Outcome)
}
