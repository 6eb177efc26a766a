package router

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// reconcile applies what time did (expired reservations, ended wrap-ups)
// and then offers every call that can be served to its agent.
func (r *router) reconcile() {
	now := r.now()
	for _, a := range r.st.Agents {
		for _, e := range slices.Clone(a.Calls) {
			if !e.Answered && !e.Deadline.IsZero() && !now.Before(e.Deadline) {
				r.noAnswer(e.Call, e.Token, a.Name)
			}
		}
		if a.Wrap != nil && !now.Before(a.Wrap.Until) {
			r.finishWrapUp(a, "", "")
		}
	}
	for _, m := range r.assign(now) {
		r.offer(m, now)
	}
}

// assign runs the policy over the waiting calls and the agents free now.
func (r *router) assign(now time.Time) []routing.Match {
	var waiting []routing.Waiter
	for _, w := range r.st.Waiters {
		if w.Offered == "" {
			waiting = append(waiting, w.Waiter)
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	agents := make([]routing.Agent, 0, len(r.st.Agents))
	for _, a := range r.st.Agents {
		agents = append(agents, r.policyAgent(a, now))
	}
	rules := make(map[string]routing.Rules, len(r.st.Queues))
	for _, q := range r.st.Queues {
		rules[q.Settings.Name] = q.Rules
	}
	return routing.Assign(waiting, agents, rules, now)
}

// policyAgent is the agent as the policy sees it: available only when the
// person chose available and no wrap-up is running.
func (r *router) policyAgent(a *Agent, now time.Time) routing.Agent {
	state := a.Base
	if a.Wrap != nil {
		state = routing.WrapUp
	}
	return routing.Agent{Name: a.Name, Skills: a.Profile.Skills, Queues: a.Profile.Queues,
		Capacity: a.capacity(), Active: len(a.Calls), State: state, IdleSince: a.IdleSince}
}

// offer reserves the agent for the call and tells the call to ring them.
// A call that cannot be told (its workflow ended) is dropped, which
// releases the agent.
func (r *router) offer(m routing.Match, now time.Time) {
	_, w := r.st.waiter(m.Call)
	a := r.st.agent(m.Agent)
	if w == nil || a == nil {
		return
	}
	ring := DefaultRingTimeout
	if q := r.st.queue(w.Queue); q != nil && q.Settings.RingTimeout > 0 {
		ring = q.Settings.RingTimeout
	}
	w.Offered, w.OfferAt, w.Offers = a.Name, now, w.Offers+1
	w.Deadline = now.Add(ring + offerGrace)
	a.Calls = append(a.Calls, Engagement{Call: w.Call, CallID: w.CallID, Queue: w.Queue, Token: w.Token, At: now, Deadline: w.Deadline})
	a.Since = now
	offer := activities.Offer{Token: w.Token, Agent: a.Name, To: "agent:" + a.Name, RingTimeout: ring}
	fut := workflow.SignalExternalWorkflow(r.ctx, w.Call, "", activities.SignalOffer, offer)
	r.inflight++
	call, token := w.Call, w.Token
	workflow.Go(r.ctx, func(gctx workflow.Context) {
		defer func() { r.inflight-- }()
		if err := fut.Get(gctx, nil); err != nil {
			workflow.GetLogger(gctx).Warn("offer not delivered; the call leaves its queue", "call", call, "error", err)
			if _, cur := r.st.waiter(call); cur != nil && cur.Token == token {
				r.drop(call, "gone")
				r.wake = true
			}
		}
	})
}

// finishWrapUp ends an agent's wrap-up: the agent is free again (idle from
// now), the queue's handle time is counted, and the call's record gets the
// wrap-up time, disposition and notes.
func (r *router) finishWrapUp(a *Agent, disposition, notes string) {
	wrap := a.Wrap
	a.Wrap = nil
	now := r.now()
	a.IdleSince, a.Since = now, now
	r.wake = true
	spent := now.Sub(wrap.Start)
	if q := r.st.queue(wrap.Queue); q != nil {
		q.Window.Handled(now, wrap.Talk+spent)
	}
	if wrap.CallID == "" {
		return
	}
	ctx := workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
		TaskQueue:           activities.SharedQueue,
		StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	in := activities.SaveWrapUpInput{CallID: wrap.CallID, Agent: a.Name, WrapUp: spent, Disposition: disposition, Notes: notes}
	fut := workflow.ExecuteActivity(ctx, activities.ActSaveWrapUp, in)
	r.inflight++
	workflow.Go(r.ctx, func(gctx workflow.Context) {
		defer func() { r.inflight-- }()
		if err := fut.Get(gctx, nil); err != nil {
			workflow.GetLogger(gctx).Warn("save wrap-up", "call", in.CallID, "error", err)
		}
	})
}
