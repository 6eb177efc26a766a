package router

import (
	"slices"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// State is everything the router knows; it is carried whole into the next
// run at continue-as-new, so every field is exported and plain data.
// Slices, not maps, keep every walk over it in one order on replay.
type State struct {
	Seq     uint64    `json:"seq"`
	Agents  []*Agent  `json:"agents,omitempty"`  // sorted by name
	Waiters []*Waiter `json:"waiters,omitempty"` // in arrival order
	Queues  []*Queue  `json:"queues,omitempty"`  // sorted by name
}

// Agent is one agent: the state a person chose (Base: offline, available
// or break) and what routing did to them (calls, wrap-up). The state shown
// is derived: reserved or on call while engaged, wrap-up until WrapUntil.
type Agent struct {
	Name      string                  `json:"name"`
	Profile   activities.AgentProfile `json:"profile"`
	Base      routing.State           `json:"base"`
	Reason    string                  `json:"reason,omitempty"`
	Since     time.Time               `json:"since"` // when the shown state began
	IdleSince time.Time               `json:"idle_since"`
	Calls     []Engagement            `json:"calls,omitempty"`
	Wrap      *WrapUp                 `json:"wrap,omitempty"`
	// Alert is a supervisor's alert on the agent's call (long silence).
	Alert      string    `json:"alert,omitempty"`
	AlertSince time.Time `json:"alert_since,omitempty"`
}

// Engagement is a call reserved for (ringing) or talking to an agent.
type Engagement struct {
	Call     string    `json:"call"` // workflow ID
	CallID   string    `json:"call_id"`
	Queue    string    `json:"queue"`
	Token    string    `json:"token"`
	Answered bool      `json:"answered,omitempty"`
	At       time.Time `json:"at"`
	Deadline time.Time `json:"deadline"` // a reservation never confirmed ends here
}

// WrapUp is an agent's after-call work on one call.
type WrapUp struct {
	CallID string        `json:"call_id"`
	Queue  string        `json:"queue"`
	Start  time.Time     `json:"start"`
	Until  time.Time     `json:"until"`
	Talk   time.Duration `json:"talk"`
}

// Waiter is a call in a queue: waiting, or ringing an agent (Offered).
type Waiter struct {
	routing.Waiter
	CallID   string    `json:"call_id"`
	Token    string    `json:"token"`
	Offered  string    `json:"offered,omitempty"`
	OfferAt  time.Time `json:"offer_at,omitempty"`
	Offers   int       `json:"offers,omitempty"`
	Deadline time.Time `json:"deadline,omitempty"`
}

// Queue is what the router keeps per queue: its settings as last joined
// and its sliding window of outcomes.
type Queue struct {
	Settings activities.QueueSettings `json:"settings"`
	Rules    routing.Rules            `json:"rules"`
	Window   routing.Window           `json:"window"`
}

// state is the agent's shown state.
func (a *Agent) state(now time.Time) routing.State {
	for _, e := range a.Calls {
		if e.Answered {
			return routing.OnCall
		}
	}
	if len(a.Calls) > 0 {
		return routing.Reserved
	}
	if a.Wrap != nil && now.Before(a.Wrap.Until) {
		return routing.WrapUp
	}
	return a.Base
}

// serves reports whether the agent takes calls of queue q (an empty list:
// every queue).
func (a *Agent) serves(q string) bool {
	return len(a.Profile.Queues) == 0 || slices.Contains(a.Profile.Queues, q)
}

func (a *Agent) capacity() int { return max(a.Profile.Capacity, 1) }

func (a *Agent) engagement(call string) int {
	return slices.IndexFunc(a.Calls, func(e Engagement) bool { return e.Call == call })
}

func (s *State) agent(name string) *Agent {
	i, ok := slices.BinarySearchFunc(s.Agents, name, func(a *Agent, n string) int { return cmpString(a.Name, n) })
	if !ok {
		return nil
	}
	return s.Agents[i]
}

// addAgent inserts a new agent in name order.
func (s *State) addAgent(a *Agent) {
	i, _ := slices.BinarySearchFunc(s.Agents, a.Name, func(x *Agent, n string) int { return cmpString(x.Name, n) })
	s.Agents = slices.Insert(s.Agents, i, a)
}

func (s *State) queue(name string) *Queue {
	i, ok := slices.BinarySearchFunc(s.Queues, name, func(q *Queue, n string) int { return cmpString(q.Settings.Name, n) })
	if !ok {
		return nil
	}
	return s.Queues[i]
}

func (s *State) addQueue(q *Queue) {
	i, _ := slices.BinarySearchFunc(s.Queues, q.Settings.Name, func(x *Queue, n string) int { return cmpString(x.Settings.Name, n) })
	s.Queues = slices.Insert(s.Queues, i, q)
}

func (s *State) waiter(call string) (int, *Waiter) {
	i := slices.IndexFunc(s.Waiters, func(w *Waiter) bool { return w.Call == call })
	if i < 0 {
		return -1, nil
	}
	return i, s.Waiters[i]
}

// agentOf finds the agent engaged with call.
func (s *State) agentOf(call string) (*Agent, int) {
	for _, a := range s.Agents {
		if i := a.engagement(call); i >= 0 {
			return a, i
		}
	}
	return nil, -1
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
