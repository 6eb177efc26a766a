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

const (
	// changeCallbackRetry: a callback after media loss waits up to
	// callbackPickWait for a media worker to report (one restarting under
	// the dead one's ID, as voxflow dev does) instead of failing at once,
	// and the media-lost signals that came before the callback was
	// answered (about the dead process: its restart and every watchdog
	// send one) are dropped rather than failing the callback's media.
	changeCallbackRetry  = "callback-retry"
	callbackRetryVersion = 1
)

// callbackPickWait bounds how long a callback waits for a live media
// worker; the pick is retried every second within it.
const callbackPickWait = 20 * time.Second

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
func (c *call) originate(in activities.OriginateInput, queue string) (activities.OriginateResult, error) {
	if queue == "" {
		o := sharedOptions{StartToClose: 10 * time.Second,
			Retry: &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrTypeNoMediaWorker}}}
		var w records.MediaWorker
		if err := c.shared(c.ctx, activities.ActPickMediaWorker, o, nil, &w); err != nil {
			return activities.OriginateResult{}, fmt.Errorf("pick a media worker: %w", err)
		}
		queue = w.Queue
	}
	in.CallID = c.in.Call.ID
	in.Timeout = orDuration(in.Timeout, DefaultRingTimeout)
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		ScheduleToStartTimeout: orDuration(c.in.Limits.MediaStartTimeout, DefaultMediaStartTimeout),
		StartToCloseTimeout:    in.Timeout + 30*time.Second,
		// Ringing heartbeats even on the fast path: a call being placed
		// has no media queue in its search attributes yet, so the media
		// watchdog cannot tell it its worker died; the heartbeat does.
		HeartbeatTimeout: orDuration(c.in.Limits.MediaHeartbeat, DefaultMediaHeartbeat),
		RetryPolicy:      &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var res activities.OriginateResult
	if err := workflow.ExecuteActivity(ctx, activities.ActOriginate, in).Get(ctx, &res); err != nil {
		return res, fmt.Errorf("call %s: %w", in.To, err)
	}
	if res.Outcome == activities.OriginateAnswered {
		c.setMediaQueue(queue)
		if in.DetectMachine {
			c.in.Call.AnsweredBy = res.AnsweredBy
		}
	}
	return res, nil
}

// placeCall starts an outbound call; an unanswered one ends at once with
// the originate outcome and no wrap-up path.
func (c *call) placeCall(o *Outbound) {
	in := activities.OriginateInput{To: o.To, From: o.From, Timeout: o.RingTimeout, DetectMachine: o.DetectMachine}
	if d := c.in.Campaign; d != nil {
		in.DetectMachine = in.DetectMachine || d.Machine != records.MachineFlow || d.AbandonAfter > 0
		in.AwaitBeep = d.Machine == records.MachineMessage
	}
	res, err := c.originate(in, o.MediaQueue)
	if err != nil {
		workflow.GetLogger(c.ctx).Warn("outbound call failed", "to", o.To, "error", err)
		res.Outcome = activities.OriginateFailed
	}
	c.campaignDialed(res)
	if res.Outcome == activities.OriginateAnswered {
		c.campaignMachine()
		return
	}
	c.outcome = res.Outcome
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
	// A campaign's dial is not called back (Call.From is the campaign's
	// caller ID): it ends media_lost, and the campaign dials the contact
	// again as a new attempt if its retry rules say so.
	if c.in.Recovery.Disabled || c.in.Campaign != nil || c.recoveries > MaxRecoveries {
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
	retry := c.version(changeCallbackRetry) >= callbackRetryVersion
	if err := workflow.Sleep(c.ctx, orDuration(c.in.Recovery.Delay, DefaultRecoveryDelay)); err != nil {
		return c.mediaGone()
	}
	to, from := c.callbackParties()
	queue := ""
	if retry {
		var err error
		if queue, err = c.pickCallbackWorker(); err != nil {
			workflow.GetLogger(c.ctx).Warn("callback after media loss: no media worker", "to", to, "error", err)
			return c.mediaGone()
		}
	}
	res, err := c.originate(activities.OriginateInput{To: to, From: from}, queue)
	if err != nil || res.Outcome != activities.OriginateAnswered {
		workflow.GetLogger(c.ctx).Warn("callback after media loss failed", "to", to, "outcome", res.Outcome, "error", err)
		return c.mediaGone()
	}
	if retry {
		c.dropStaleMediaLost()
	}
	f := c.flows[top.Flow]
	c.pending = append(c.pending, activities.Prompt{Node: n.ID, Text: recoveryPrompt, Language: f.Settings.Language, Voice: f.Settings.Voice})
	return "callback", resume
}

// pickCallbackWorker picks the least-loaded live media worker for a
// callback; while none reports (the pick fails as not retryable) it asks
// again every second, for callbackPickWait.
func (c *call) pickCallbackWorker() (string, error) {
	o := sharedOptions{StartToClose: 10 * time.Second,
		Retry: &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrTypeNoMediaWorker}}}
	deadline := workflow.Now(c.ctx).Add(callbackPickWait)
	for {
		var w records.MediaWorker
		err := c.shared(c.ctx, activities.ActPickMediaWorker, o, nil, &w)
		if err == nil {
			return w.Queue, nil
		}
		if !workflow.Now(c.ctx).Before(deadline) {
			return "", fmt.Errorf("pick a media worker: %w", err)
		}
		if err := workflow.Sleep(c.ctx, time.Second); err != nil {
			return "", err
		}
	}
}

// dropStaleMediaLost discards the media-lost signals received so far: the
// callback was answered, so they speak of the process before it, which
// may have run on the same queue.
func (c *call) dropStaleMediaLost() {
	var lost activities.MediaLost
	for c.lostCh.ReceiveAsync(&lost) {
	}
	c.mediaLost = false
}

// callbackParties are whom a call lost with its media worker is called
// back and the number presented: an inbound caller from the number they
// called, an outbound callee from the number we called them from.
func (c *call) callbackParties() (to, from string) {
	to, from = c.in.Call.From, c.in.Call.To
	if o := c.in.Outbound; o != nil {
		to, from = o.To, o.From
	}
	if c.in.Recovery.CallbackTo != "" {
		to = c.in.Recovery.CallbackTo
	}
	return to, from
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
