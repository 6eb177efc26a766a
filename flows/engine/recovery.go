package engine

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// errMediaLost: the media worker holding the call stopped answering.
var errMediaLost = errors.New("media worker lost")

// recoveryPrompt is said when the caller answers the callback.
const recoveryPrompt = "Sorry, we were cut off. Let's continue where we left off."

// isMediaLost reports a media activity that no worker picked up in time or
// whose worker stopped heartbeating (calls from before the fast path): the
// worker (or its host) is gone. On the fast path a media-lost signal from
// platform's watchdog says it instead.
func isMediaLost(err error) bool {
	var te *temporal.TimeoutError
	if !errors.As(err, &te) {
		return false
	}
	switch te.TimeoutType() {
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return true
	}
	return false
}

// load pins the latest published version of a flow through LoadFlows.
func (c *call) load(name string) (activities.FlowSource, error) {
	var srcs []activities.FlowSource
	if err := c.shared(c.ctx, activities.ActLoadFlows, loadFlowsOptions, activities.LoadFlowsInput{Names: []string{name}}, &srcs); err != nil {
		return activities.FlowSource{}, fmt.Errorf("load flow %q: %w", name, err)
	}
	if len(srcs) != 1 {
		return activities.FlowSource{}, activities.NewBadInput(fmt.Errorf("flow %q is not published", name))
	}
	return srcs[0], nil
}

// originate places a call to `to` for this call ID through a media worker
// (the pinned queue, or the least-loaded one) and, once answered, makes
// that worker the call's media queue.
func (c *call) originate(to, from, queue string, ring time.Duration, detectMachine bool) (string, error) {
	if queue == "" {
		o := sharedOptions{StartToClose: 10 * time.Second,
			Retry: &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrTypeNoMediaWorker}}}
		var w records.MediaWorker
		if err := c.shared(c.ctx, activities.ActPickMediaWorker, o, nil, &w); err != nil {
			return "", fmt.Errorf("pick a media worker: %w", err)
		}
		queue = w.Queue
	}
	ring = orDuration(ring, DefaultRingTimeout)
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToStartTimeout: orDuration(c.in.Limits.MediaStartTimeout, DefaultMediaStartTimeout),
		StartToCloseTimeout:    ring + 30*time.Second,
		HeartbeatTimeout:       c.mediaHeartbeat(),
		RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var res activities.OriginateResult
	in := activities.OriginateInput{CallID: c.in.Call.ID, To: to, From: from, Timeout: ring, DetectMachine: detectMachine}
	if err := workflow.ExecuteActivity(ctx, activities.ActOriginate, in).Get(ctx, &res); err != nil {
		return "", fmt.Errorf("call %s: %w", to, err)
	}
	if res.Outcome == activities.OriginateAnswered {
		c.setMediaQueue(queue)
		if detectMachine {
			c.in.Call.AnsweredBy = res.AnsweredBy
		}
	}
	return res.Outcome, nil
}

// placeCall starts an outbound call; an unanswered one ends at once with
// the originate outcome and no wrap-up path.
func (c *call) placeCall(o *Outbound) {
	outcome, err := c.originate(o.To, o.From, o.MediaQueue, o.RingTimeout, o.DetectMachine)
	if err != nil {
		workflow.GetLogger(c.ctx).Warn("outbound call failed", "to", o.To, "error", err)
		outcome = activities.OriginateFailed
	}
	if outcome == activities.OriginateAnswered {
		return
	}
	c.outcome = outcome
	c.hungUp, c.inHangup = true, true
	c.stack = c.stack[:1]
	c.stack[0].Node = ""
}

// recoverMedia handles a dead media worker: call the caller back through
// another worker and resume at the last menu or gather of this frame. It
// returns the exit and next node of the failed node.
func (c *call) recoverMedia(n *flows.Node) (string, string) {
	c.pending = nil
	c.recoveries++
	if c.in.Recovery.Disabled || c.recoveries > MaxRecoveries {
		return c.mediaGone()
	}
	resume := n.ID
	top := c.top()
	for i := len(c.path) - 1; i >= 0; i-- {
		s := c.path[i]
		if s.Flow == top.Flow && (s.Type == string(flows.TypeMenu) || s.Type == string(flows.TypeGather)) {
			resume = s.Node
			break
		}
	}
	if err := workflow.Sleep(c.ctx, orDuration(c.in.Recovery.Delay, DefaultRecoveryDelay)); err != nil {
		return c.mediaGone()
	}
	to := c.in.Recovery.CallbackTo
	if to == "" {
		to = c.in.Call.From
	}
	outcome, err := c.originate(to, c.in.Call.To, "", 0, false)
	if err != nil || outcome != activities.OriginateAnswered {
		workflow.GetLogger(c.ctx).Warn("callback after media loss failed", "to", to, "outcome", outcome, "error", err)
		return c.mediaGone()
	}
	f := c.flows[top.Flow]
	c.pending = append(c.pending, activities.Prompt{Node: n.ID, Text: recoveryPrompt, Language: f.Settings.Language, Voice: f.Settings.Voice})
	return "callback", resume
}

// mediaGone ends the call after an unrecoverable media loss: the caller
// is unreachable, so only the wrap-up path runs.
func (c *call) mediaGone() (string, string) {
	if c.outcome == "" {
		c.outcome = records.OutcomeMediaLost
	}
	c.markHungUp()
	return "media_lost", ""
}
