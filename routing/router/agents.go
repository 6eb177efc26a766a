package router

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// ErrNoProfile: an agent signing in for the first time came without skills.
var ErrNoProfile = errors.New("no profile")

// validateAgent rejects a state a person may not ask for, and a first
// sign-in without a profile.
func (r *router) validateAgent(req activities.AgentRequest) error {
	if req.Agent == "" {
		return errors.New("agent state: no agent named")
	}
	st, err := routing.ParseState(req.State)
	if err != nil {
		return fmt.Errorf("agent %q: %w", req.Agent, err)
	}
	if !routing.Requestable(st) {
		return fmt.Errorf("agent %q: %q is set by routing, not by request; ask for offline, available or break", req.Agent, req.State)
	}
	if req.Profile == nil && r.st.agent(req.Agent) == nil && st != routing.Offline {
		return fmt.Errorf("agent %q: %w: sign in with the agent's skills", req.Agent, ErrNoProfile)
	}
	if p := req.Profile; p != nil {
		for name, lvl := range p.Skills {
			if lvl < 1 || lvl > 10 {
				return fmt.Errorf("agent %q: skill %q: level %d is not 1 to 10", req.Agent, name, lvl)
			}
		}
	}
	return nil
}

// setAgent applies a requested state. A busy agent's calls go on: the new
// state decides what happens after them (break: no more offers).
func (r *router) setAgent(_ workflow.Context, req activities.AgentRequest) (activities.AgentView, error) {
	st, _ := routing.ParseState(req.State) // validated
	now := r.now()
	a := r.st.agent(req.Agent)
	if a == nil {
		a = &Agent{Name: req.Agent, Base: routing.Offline, Since: now, IdleSince: now}
		r.st.addAgent(a)
	}
	if req.Profile != nil {
		a.Profile = *req.Profile
	}
	if a.Base != st {
		if st == routing.Available {
			a.IdleSince = now
		}
		a.Since = now
	}
	a.Base, a.Reason = st, req.Reason
	if st != routing.Break {
		a.Reason = ""
	}
	r.wake = true
	return r.view(a), nil
}

func (r *router) validateWrapUp(req activities.WrapUpRequest) error {
	a := r.st.agent(req.Agent)
	if a == nil || a.Wrap == nil {
		return fmt.Errorf("agent %q is not in wrap-up", req.Agent)
	}
	return nil
}

// endWrapUp ends the agent's wrap-up with a disposition.
func (r *router) endWrapUp(_ workflow.Context, req activities.WrapUpRequest) (activities.AgentView, error) {
	a := r.st.agent(req.Agent)
	if a == nil || a.Wrap == nil {
		return activities.AgentView{}, fmt.Errorf("agent %q is not in wrap-up", req.Agent)
	}
	r.finishWrapUp(a, req.Disposition, req.Notes)
	return r.view(a), nil
}
