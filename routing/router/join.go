package router

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// validateJoin rejects a join the router could not hold; a rejected update
// leaves no trace in the history.
func validateJoin(req activities.JoinRequest) error {
	switch {
	case req.Call == "":
		return errors.New("join: no call")
	case req.Queue == "" || req.Settings.Name != req.Queue:
		return fmt.Errorf("join: queue %q with settings of %q", req.Queue, req.Settings.Name)
	}
	if _, err := routing.ParseRequirements(req.Skills); err != nil {
		return fmt.Errorf("join queue %q: %w", req.Queue, err)
	}
	_, err := rulesOf(req.Settings)
	return err
}

// rulesOf turns a queue's overflow settings into the policy's rules.
func rulesOf(s activities.QueueSettings) (routing.Rules, error) {
	var rules routing.Rules
	for i, o := range s.Overflow {
		needs, err := routing.ParseRequirements(o.Skills)
		if err != nil {
			return rules, fmt.Errorf("queue %q: overflow[%d]: %w", s.Name, i, err)
		}
		rules.Overflow = append(rules.Overflow, routing.Overflow{After: o.After, Needs: needs, ClearNeeds: o.ClearSkills, Queue: o.Queue})
	}
	return rules, nil
}

// join adds a call to its queue, or reports the queue full. Joining again
// with the same token (an activity retry) answers the same.
func (r *router) join(_ workflow.Context, req activities.JoinRequest) (activities.JoinResult, error) {
	r.upsertQueue(req.Settings)
	res := activities.JoinResult{Settings: req.Settings}
	if _, w := r.st.waiter(req.Call); w != nil && w.Token == req.Token {
		res.Position = r.positionOf(w)
		return res, nil
	}
	// A former stay of the call (it never said it left) ends here.
	r.drop(req.Call, "")
	if limit := req.Settings.MaxWaiting; limit > 0 && r.waitingIn(req.Queue) >= limit {
		res.Full = true
		return res, nil
	}
	needs, _ := routing.ParseRequirements(req.Skills) // validated
	r.st.Seq++
	since := r.now()
	if !req.Since.IsZero() && req.Since.Before(since) {
		since = req.Since // a callback keeps its caller's place
	}
	w := &Waiter{Waiter: routing.Waiter{Call: req.Call, Queue: req.Queue, Priority: req.Priority, Needs: needs,
		EnqueuedAt: since, Seq: r.st.Seq}, CallID: req.CallID, Token: req.Token}
	r.st.Waiters = append(r.st.Waiters, w)
	r.wake = true
	res.Position = r.positionOf(w)
	return res, nil
}

func (r *router) upsertQueue(s activities.QueueSettings) *Queue {
	rules, _ := rulesOf(s) // validated
	q := r.st.queue(s.Name)
	if q == nil {
		q = &Queue{Window: routing.NewWindow(r.windowSpan(), s.SLThreshold)}
		q.Settings = s
		r.st.addQueue(q)
	}
	q.Settings, q.Rules = s, rules
	q.Window.Threshold = s.SLThreshold
	return q
}

func (r *router) waitingIn(queue string) int {
	n := 0
	for _, w := range r.st.Waiters {
		if w.Queue == queue {
			n++
		}
	}
	return n
}

// onEvent applies what a call reports. Events of a former stay (another
// token) are ignored, except that an answer is never lost.
func (r *router) onEvent(ev activities.QueueEvent) {
	r.wake = true
	switch ev.Kind {
	case activities.QueueAnswered:
		r.answered(ev)
	case activities.QueueNoAnswer:
		r.noAnswer(ev.Call, ev.Token, ev.Agent)
	case activities.QueueEnded:
		r.ended(ev)
	case activities.QueueLeft:
		r.drop(ev.Call, ev.Reason)
	case activities.QueueSilence:
		r.silence(ev)
	}
}

// silence raises or clears the long-silence alert of the agent on the call.
func (r *router) silence(ev activities.QueueEvent) {
	a, _ := r.st.agentOf(ev.Call)
	if a == nil {
		return
	}
	if ev.Reason == "started" {
		a.Alert, a.AlertSince = "long silence", r.now().Add(-ev.Talk)
		return
	}
	a.Alert, a.AlertSince = "", time.Time{}
}

// answered moves the call from the queue to the agent's calls.
func (r *router) answered(ev activities.QueueEvent) {
	now := r.now()
	i, w := r.st.waiter(ev.Call)
	if w != nil && w.Token == ev.Token {
		r.st.Waiters = slices.Delete(r.st.Waiters, i, i+1)
		if q := r.st.queue(w.Queue); q != nil {
			q.Window.Answered(now, now.Sub(w.EnqueuedAt))
		}
	}
	a := r.st.agent(ev.Agent)
	if a == nil {
		return
	}
	j := a.engagement(ev.Call)
	if j < 0 {
		// The reservation had expired: the agent talks all the same.
		queue := ""
		if w != nil {
			queue = w.Queue
		}
		a.Calls = append(a.Calls, Engagement{Call: ev.Call, Queue: queue, Token: ev.Token, At: now})
		j = len(a.Calls) - 1
	}
	a.Calls[j].Answered = true
	a.Since = now
}

// noAnswer puts the agent on break (not ready) and the caller back at the
// front: the caller keeps their enqueue time, and is not offered to that
// agent again.
func (r *router) noAnswer(call, token, agent string) {
	now := r.now()
	if a := r.st.agent(agent); a != nil {
		if j := a.engagement(call); j >= 0 {
			a.Calls = slices.Delete(a.Calls, j, j+1)
			if a.Base == routing.Available {
				a.Base, a.Reason = routing.Break, "missed call"
			}
			a.Since = now
		}
	}
	if _, w := r.st.waiter(call); w != nil && w.Token == token && w.Offered == agent {
		w.Offered, w.OfferAt, w.Deadline = "", time.Time{}, time.Time{}
		if !slices.Contains(w.Skip, agent) {
			w.Skip = append(w.Skip, agent)
		}
	}
}

// ended closes a conversation: the agent goes to wrap-up (or straight
// back when the queue has none).
func (r *router) ended(ev activities.QueueEvent) {
	a, j := r.st.agentOf(ev.Call)
	if a == nil {
		return
	}
	e := a.Calls[j]
	a.Calls = slices.Delete(a.Calls, j, j+1)
	now := r.now()
	a.Since = now
	a.Alert, a.AlertSince = "", time.Time{}
	if len(a.Calls) > 0 {
		return
	}
	wrap := time.Duration(0)
	if q := r.st.queue(e.Queue); q != nil {
		wrap = q.Settings.WrapUp
	}
	a.Wrap = &WrapUp{CallID: e.CallID, Queue: e.Queue, Start: now, Until: now.Add(wrap), Talk: ev.Talk}
	if wrap <= 0 {
		r.finishWrapUp(a, "", "")
	}
}

// drop removes a call from its queue (it left, or it is gone); a reserved
// agent is released without blame. reason "abandoned" counts against the
// queue's service level.
func (r *router) drop(call, reason string) {
	i, w := r.st.waiter(call)
	if w == nil {
		return
	}
	r.st.Waiters = slices.Delete(r.st.Waiters, i, i+1)
	if w.Offered != "" {
		if a := r.st.agent(w.Offered); a != nil {
			if j := a.engagement(call); j >= 0 && !a.Calls[j].Answered {
				a.Calls = slices.Delete(a.Calls, j, j+1)
				a.Since = r.now()
			}
		}
	}
	if reason == "abandoned" {
		if q := r.st.queue(w.Queue); q != nil {
			q.Window.Abandoned(r.now(), r.now().Sub(w.EnqueuedAt))
		}
	}
}
