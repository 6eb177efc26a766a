package router_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing/router"
)

// rig runs the router on Temporal's test suite: calls are fakes that
// record the offers the router signals them, wrap-ups land in saved.
type rig struct {
	t      *testing.T
	env    *testsuite.TestWorkflowEnvironment
	offers []string // "call->agent"
	saved  []activities.SaveWrapUpInput
	errs   []string
}

func newRig(t *testing.T) *rig {
	var s testsuite.WorkflowTestSuite
	r := &rig{t: t, env: s.NewTestWorkflowEnvironment()}
	r.env.RegisterWorkflow(router.RouterWorkflow)
	r.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", activities.SignalOffer, mock.Anything).
		Return(func(_, call, _, _ string, arg any) error {
			r.offers = append(r.offers, call+"->"+arg.(activities.Offer).Agent)
			return nil
		})
	r.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.SaveWrapUpInput) error {
		r.saved = append(r.saved, in)
		return nil
	}, activity.RegisterOptions{Name: activities.ActSaveWrapUp})
	return r
}

// at runs f at workflow time d.
func (r *rig) at(d time.Duration, f func()) { r.env.RegisterDelayedCallback(f, d) }

func (r *rig) update(name string, arg any, wantErr string) {
	r.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			if wantErr == "" || !strings.Contains(err.Error(), wantErr) {
				r.errs = append(r.errs, name+" rejected: "+err.Error())
			}
		},
		OnAccept: func() {},
		OnComplete: func(_ any, err error) {
			if err != nil && (wantErr == "" || !strings.Contains(err.Error(), wantErr)) {
				r.errs = append(r.errs, name+": "+err.Error())
			}
		},
	}, arg)
}

func (r *rig) signIn(agent string, skills map[string]int) {
	r.update(activities.UpdateAgent, activities.AgentRequest{Agent: agent, State: "available",
		Profile: &activities.AgentProfile{Skills: skills, Capacity: 1}}, "")
}

func (r *rig) join(call string, priority int, skills ...string) {
	r.update(activities.UpdateJoin, activities.JoinRequest{
		JoinInput: activities.JoinInput{Call: call, CallID: call, Queue: "q", Priority: priority, Skills: skills, Token: call + "/1"},
		Settings:  activities.QueueSettings{Name: "q", RingTimeout: 10 * time.Second, WrapUp: 30 * time.Second, SLThreshold: 20 * time.Second},
	}, "")
}

func (r *rig) event(ev activities.QueueEvent) {
	ev.Token = ev.Call + "/1"
	r.env.SignalWorkflow(activities.SignalQueueEvent, ev)
}

func (r *rig) board() activities.Board {
	v, err := r.env.QueryWorkflow(activities.QueryBoard)
	if err != nil {
		r.t.Fatal(err)
	}
	var b activities.Board
	if err := v.Get(&b); err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *rig) run(until time.Duration) {
	r.at(until, func() { r.env.CancelWorkflow() })
	r.env.ExecuteWorkflow(router.RouterWorkflow, router.Input{HistoryLimit: 100000})
	for _, e := range r.errs {
		r.t.Error(e)
	}
}

func agentState(b activities.Board, name string) string {
	for _, a := range b.Agents {
		if a.Name == name {
			return a.State + "/" + a.Reason
		}
	}
	return "missing"
}

// Calls are offered by priority, then time waited, each to the longest
// idle agent with the skills; an agent is never offered two calls.
func TestRouterAssignsByPriorityAndIdle(t *testing.T) {
	r := newRig(t)
	r.at(time.Second, func() { r.join("c1", 0, "english") })
	r.at(2*time.Second, func() { r.join("c2", 5, "english") })
	r.at(3*time.Second, func() { r.join("c3", 0, "french") })
	r.at(4*time.Second, func() { r.signIn("bob", map[string]int{"english": 3}) })
	r.at(5*time.Second, func() { r.signIn("alice", map[string]int{"english": 5}) })
	r.at(6*time.Second, func() {
		if got := strings.Join(r.offers, " "); got != "c2->bob c1->alice" {
			t.Errorf("offers = %s", got)
		}
		if s := agentState(r.board(), "bob"); s != "reserved/" {
			t.Errorf("bob = %s", s)
		}
	})
	r.run(time.Minute)
}

// No answer: the agent goes not-ready and the caller, keeping their place,
// is offered to the next agent; the one who did not answer is skipped.
func TestRouterNoAnswerRequeues(t *testing.T) {
	r := newRig(t)
	r.at(time.Second, func() { r.signIn("bob", nil) })
	r.at(2*time.Second, func() { r.join("c1", 0) })
	r.at(5*time.Second, func() { r.event(activities.QueueEvent{Kind: activities.QueueNoAnswer, Call: "c1", Agent: "bob"}) })
	r.at(6*time.Second, func() { r.signIn("alice", nil) })
	r.at(7*time.Second, func() {
		if got := strings.Join(r.offers, " "); got != "c1->bob c1->alice" {
			t.Errorf("offers = %s", got)
		}
		if s := agentState(r.board(), "bob"); s != "break/missed call" {
			t.Errorf("bob = %s", s)
		}
	})
	r.run(time.Minute)
}

// Answered, then ended: the agent wraps up for the queue's wrap-up time,
// then takes calls again; the wrap-up is saved into the call's record and
// the queue counts the answer within its threshold.
func TestRouterWrapUp(t *testing.T) {
	r := newRig(t)
	r.at(time.Second, func() { r.signIn("bob", nil) })
	r.at(2*time.Second, func() { r.join("c1", 0) })
	r.at(4*time.Second, func() {
		r.event(activities.QueueEvent{Kind: activities.QueueAnswered, Call: "c1", Agent: "bob", Ring: 2 * time.Second})
	})
	r.at(5*time.Second, func() { r.join("c2", 0) })
	r.at(10*time.Second, func() {
		if s := agentState(r.board(), "bob"); s != "on_call/" {
			t.Errorf("bob while talking = %s", s)
		}
		r.event(activities.QueueEvent{Kind: activities.QueueEnded, Call: "c1", Agent: "bob", Talk: 6 * time.Second})
	})
	r.at(20*time.Second, func() {
		if s := agentState(r.board(), "bob"); s != "wrap_up/" || len(r.offers) != 1 {
			t.Errorf("bob in wrap-up = %s, offers %v", s, r.offers)
		}
	})
	r.at(45*time.Second, func() {
		if got := strings.Join(r.offers, " "); got != "c1->bob c2->bob" {
			t.Errorf("offers after wrap-up = %s", got)
		}
		if len(r.saved) != 1 || r.saved[0].CallID != "c1" || r.saved[0].WrapUp != 30*time.Second {
			t.Errorf("saved wrap-ups = %+v", r.saved)
		}
		for _, q := range r.board().Queues {
			if q.Answered != 1 || q.ServiceLevel != 1 {
				t.Errorf("queue = %+v", q)
			}
		}
	})
	r.run(time.Minute)
}

// Bad requests are refused with a reason and change nothing.
func TestRouterRefusesBadRequests(t *testing.T) {
	r := newRig(t)
	r.at(time.Second, func() {
		r.update(activities.UpdateAgent, activities.AgentRequest{Agent: "bob", State: "on_call"}, "set by routing")
		r.update(activities.UpdateAgent, activities.AgentRequest{Agent: "bob", State: "sleeping"}, "must be one of")
		r.update(activities.UpdateAgent, activities.AgentRequest{Agent: "bob", State: "available"}, "no profile")
		r.update(activities.UpdateWrapUp, activities.WrapUpRequest{Agent: "bob", Disposition: "sale"}, "not in wrap-up")
		r.update(activities.UpdateJoin, activities.JoinRequest{JoinInput: activities.JoinInput{Call: "c1", Queue: "q", Skills: []string{"billing:x"}},
			Settings: activities.QueueSettings{Name: "q"}}, "billing:x")
	})
	r.at(2*time.Second, func() {
		if b := r.board(); len(b.Agents) != 0 || len(b.Queues) != 0 {
			t.Errorf("board after refused requests = %+v", b)
		}
	})
	r.run(time.Minute)
}

// A queue that holds MaxWaiting callers turns the next one away.
func TestRouterQueueFull(t *testing.T) {
	r := newRig(t)
	var full []bool
	join := func(call string) {
		r.env.UpdateWorkflow(activities.UpdateJoin, "", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Error(err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { full = append(full, v.(activities.JoinResult).Full) },
		}, activities.JoinRequest{JoinInput: activities.JoinInput{Call: call, Queue: "q", Token: call},
			Settings: activities.QueueSettings{Name: "q", MaxWaiting: 1}})
	}
	r.at(time.Second, func() { join("c1") })
	r.at(2*time.Second, func() { join("c2") })
	r.at(3*time.Second, func() {
		if len(full) != 2 || full[0] || !full[1] {
			t.Errorf("full = %v", full)
		}
	})
	r.run(time.Minute)
}

// A long silence on an agent's call shows on the board until someone
// speaks again or the call ends.
func TestRouterSilenceAlert(t *testing.T) {
	r := newRig(t)
	r.at(time.Second, func() { r.signIn("bob", nil) })
	r.at(2*time.Second, func() { r.join("c1", 0) })
	r.at(3*time.Second, func() { r.event(activities.QueueEvent{Kind: activities.QueueAnswered, Call: "c1", Agent: "bob"}) })
	r.at(40*time.Second, func() {
		r.event(activities.QueueEvent{Kind: activities.QueueSilence, Call: "c1", Agent: "bob", Reason: "started", Talk: 30 * time.Second})
	})
	alert := func() activities.AgentView {
		for _, a := range r.board().Agents {
			return a
		}
		return activities.AgentView{}
	}
	r.at(41*time.Second, func() {
		if a := alert(); a.Alert != "long silence" || a.AlertSince.IsZero() {
			t.Errorf("bob during the silence: %+v", a)
		}
		r.event(activities.QueueEvent{Kind: activities.QueueSilence, Call: "c1", Agent: "bob", Reason: "ended"})
	})
	r.at(42*time.Second, func() {
		if a := alert(); a.Alert != "" {
			t.Errorf("bob after someone spoke: %+v", a)
		}
	})
	r.run(time.Minute)
}

// A call whose skills nobody has waits until its queue's overflow step
// drops them, then goes to a free agent; the router wakes for the step
// without any event.
func TestRouterOverflowWidens(t *testing.T) {
	r := newRig(t)
	r.at(time.Second, func() { r.signIn("bob", map[string]int{"english": 5}) })
	r.at(2*time.Second, func() {
		r.update(activities.UpdateJoin, activities.JoinRequest{
			JoinInput: activities.JoinInput{Call: "c1", CallID: "c1", Queue: "q", Skills: []string{"french"}, Token: "c1/1"},
			Settings: activities.QueueSettings{Name: "q", RingTimeout: 10 * time.Second,
				Overflow: []activities.Overflow{{After: time.Minute, ClearSkills: true}}},
		}, "")
	})
	r.at(61*time.Second, func() {
		if len(r.offers) != 0 {
			t.Errorf("offered before the overflow step: %v", r.offers)
		}
	})
	r.at(63*time.Second, func() {
		if got := strings.Join(r.offers, " "); got != "c1->bob" {
			t.Errorf("offers after the overflow step = %q", got)
		}
	})
	r.run(2 * time.Minute)
}
