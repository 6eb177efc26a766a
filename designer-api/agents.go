package designerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// AgentNameParam is the path parameter naming an agent (its SIP account).
type AgentNameParam struct {
	Name string `path:"name" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" doc:"Agent name: the SIP account's username"`
}

// Agent is an agent's routing profile as stored, and what the router
// shows of the agent now.
type Agent struct {
	Name      string     `json:"name"`
	Skills    []string   `json:"skills" doc:"name:level, by name"`
	Queues    []string   `json:"queues" doc:"Queues the agent serves, in the agent's order"`
	Capacity  int        `json:"capacity" doc:"Calls the agent takes at once"`
	UpdatedAt time.Time  `json:"updated_at,omitzero"`
	Live      *AgentLive `json:"live,omitempty" doc:"Absent when the router cannot be asked; live_error says why"`
	LiveError string     `json:"live_error,omitempty"`
}

func agentOfProfile(p store.AgentProfile) Agent {
	return Agent{Name: p.Username, Skills: routing.Skills(p.Skills).Strings(), Queues: append([]string{}, p.Queues...),
		Capacity: p.Capacity, UpdatedAt: p.UpdatedAt}
}

// boardAgent finds an agent on the board.
func boardAgent(b activities.Board, name string) (activities.AgentView, bool) {
	for _, v := range b.Agents {
		if v.Name == name {
			return v, true
		}
	}
	return activities.AgentView{}, false
}

// withLive adds the agent's state from the board: offline for an agent
// the router has not seen.
func (a *Agent) withLive(b activities.Board) {
	v, ok := boardAgent(b, a.Name)
	if !ok {
		v = activities.AgentView{Name: a.Name, State: string(routing.Offline)}
	}
	l := agentLiveOf(v)
	a.Live = &l
}

// AgentProfileBody sets an agent's routing profile.
type AgentProfileBody struct {
	Skills   []string `json:"skills" required:"false" doc:"Skills as name or name:level (level 1 to 10, 1 when omitted); an item may list several: billing:5,english"`
	Queues   []string `json:"queues" required:"false" doc:"Queues the agent serves, in the agent's order (they need not exist yet)"`
	Capacity int      `json:"capacity" required:"false" minimum:"0" maximum:"100" doc:"Calls at once, 1 to 100 (0 or omitted: 1)"`
}

type setProfileInput struct {
	AgentNameParam
	Body AgentProfileBody
}

type agentOutput struct {
	Body Agent
}

type agentsOutput struct {
	Body struct {
		Agents    []Agent `json:"agents"`
		LiveError string  `json:"live_error,omitempty" doc:"Why the agents have no live state"`
	}
}

// AgentStateBody asks for an agent's state.
type AgentStateBody struct {
	State  string `json:"state" doc:"offline (sign out), available or break; the router refuses the states it sets itself"`
	Reason string `json:"reason,omitempty" maxLength:"200" doc:"Why, for a break"`
}

type agentStateInput struct {
	AgentNameParam
	Body AgentStateBody
}

// WrapUpBody ends an agent's wrap-up.
type WrapUpBody struct {
	Disposition string `json:"disposition,omitempty" maxLength:"200" doc:"How the call ended, kept in its CDR"`
	Notes       string `json:"notes,omitempty" maxLength:"4000" doc:"The agent's notes on the call, kept in its CDR"`
}

type wrapUpInput struct {
	AgentNameParam
	Body WrapUpBody
}

type boardAgentOutput struct {
	Body BoardAgent
}

func (s *server) registerAgents(api huma.API) {
	huma.Register(api, routingOp("list-agents", http.MethodGet, "/agents", RoleViewer,
		"Every agent with a routing profile: skills, queues, capacity and live state"),
		requires(s.needStore, s.listAgents))
	huma.Register(api, routingOp("get-agent", http.MethodGet, "/agents/{name}", RoleViewer,
		"One agent's routing profile and live state"),
		requires(s.needStore, s.getAgent))
	// Operator, not admin: skills and queues change during the day with the
	// traffic, which is the operators' work; they grant no access to the
	// API, so they need no admin.
	huma.Register(api, routingOp("set-agent-profile", http.MethodPut, "/agents/{name}", RoleOperator,
		"Set an agent's skills, queues and capacity (the SIP account must exist); a signed-in agent's router gets them at once"),
		requires(s.needStore, s.setAgentProfile))
	huma.Register(api, routingOp("set-agent-state", http.MethodPut, "/agents/{name}/state", RoleAgent,
		"Sign an agent in or out, or take a break. Below operator, only one's own state"),
		s.setAgentState)
	huma.Register(api, routingOp("end-wrap-up", http.MethodPost, "/agents/{name}/wrap-up", RoleAgent,
		"End an agent's wrap-up with a disposition (409 when not in wrap-up). Below operator, only one's own"),
		s.endWrapUp)
}

func (s *server) listAgents(ctx context.Context, _ *struct{}) (*agentsOutput, error) {
	ps, err := s.cfg.Store.AgentProfiles(ctx)
	if err != nil {
		return nil, s.fail("list agents", err)
	}
	out := &agentsOutput{}
	out.Body.Agents = []Agent{}
	b, why, live := s.liveBoard(ctx)
	for _, p := range ps {
		a := agentOfProfile(p)
		if live {
			a.withLive(b)
		}
		out.Body.Agents = append(out.Body.Agents, a)
	}
	out.Body.LiveError = why
	return out, nil
}

// profile loads an agent's stored profile; none is a 404 saying how to set it.
func (s *server) profile(ctx context.Context, name string) (store.AgentProfile, error) {
	p, err := s.cfg.Store.AgentProfile(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return p, huma.Error404NotFound(fmt.Sprintf("agent %q has no routing profile: set the agent's skills first (PUT %s/agents/%s or `voxflow agents set %s --skills ...`)",
			name, Prefix, name, name))
	}
	if err != nil {
		return p, s.fail("get agent", err)
	}
	return p, nil
}

func (s *server) getAgent(ctx context.Context, in *AgentNameParam) (*agentOutput, error) {
	p, err := s.profile(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	a := agentOfProfile(p)
	if b, why, live := s.liveBoard(ctx); live {
		a.withLive(b)
	} else {
		a.LiveError = why
	}
	return &agentOutput{Body: a}, nil
}

func (s *server) setAgentProfile(ctx context.Context, in *setProfileInput) (*agentOutput, error) {
	skills, err := routing.ParseSkills(in.Body.Skills)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error(),
			&huma.ErrorDetail{Message: err.Error(), Location: "body.skills", Value: in.Body.Skills})
	}
	err = s.cfg.Store.SetAgentProfile(ctx, store.AgentProfile{Username: in.Name, Skills: skills, Queues: in.Body.Queues,
		Capacity: max(in.Body.Capacity, 1)})
	if errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error404NotFound(fmt.Sprintf("agent %q has no SIP account: `voxflow agents add %s` creates it", in.Name, in.Name))
	}
	if err != nil {
		return nil, s.fail("set agent profile", err)
	}
	p, err := s.profile(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	a := agentOfProfile(p)
	s.pushProfile(ctx, &a, p)
	return &agentOutput{Body: a}, nil
}

// pushProfile gives a signed-in agent's router the new profile, keeping
// the state the agent asked for; a signed-out agent's router gets it at
// the next sign-in. The profile is stored either way: a router that
// cannot be told leaves live_error, not a failure.
func (s *server) pushProfile(ctx context.Context, a *Agent, p store.AgentProfile) {
	b, why, ok := s.liveBoard(ctx)
	if !ok {
		a.LiveError = "profile stored; the router gets it when the agent next signs in: " + why
		return
	}
	a.withLive(b)
	v, _ := boardAgent(b, a.Name)
	if v.State == "" || v.State == string(routing.Offline) {
		return
	}
	state := v.State
	if v.Pending != "" {
		state = v.Pending
	}
	if !routing.Requestable(routing.State(state)) {
		a.LiveError = fmt.Sprintf("profile stored; the router keeps the former one: the agent's state %q is not one a person sets", state)
		return
	}
	view, err := s.cfg.Routing.SetAgent(ctx, activities.AgentRequest{Agent: a.Name, State: state, Reason: v.Reason, Profile: routingProfile(p)})
	if err != nil {
		s.log.Warn("push agent profile", "agent", a.Name, "error", err)
		a.LiveError = "profile stored; the router refused it or did not answer: " + err.Error()
		return
	}
	l := agentLiveOf(view)
	a.Live = &l
}

func routingProfile(p store.AgentProfile) *activities.AgentProfile {
	return &activities.AgentProfile{Skills: p.Skills, Queues: p.Queues, Capacity: p.Capacity}
}

func (s *server) setAgentState(ctx context.Context, in *agentStateInput) (*boardAgentOutput, error) {
	if err := mayActFor(ctx, in.Name); err != nil {
		return nil, err
	}
	if err := s.needStore(); err != nil {
		return nil, err
	}
	if err := s.needRouting(); err != nil {
		return nil, err
	}
	req := activities.AgentRequest{Agent: in.Name, State: in.Body.State, Reason: in.Body.Reason}
	p, err := s.profile(ctx, in.Name)
	var se huma.StatusError
	noProfile := errors.As(err, &se) && se.GetStatus() == http.StatusNotFound
	switch st, _ := routing.ParseState(in.Body.State); {
	case err == nil:
		req.Profile = routingProfile(p)
	case !noProfile || st != routing.Offline: // signing out needs no profile
		return nil, err
	}
	v, err := s.cfg.Routing.SetAgent(ctx, req)
	if err != nil {
		return nil, s.routingFail("set agent state", err, huma.Error422UnprocessableEntity)
	}
	return &boardAgentOutput{Body: boardAgentOf(v)}, nil
}

func (s *server) endWrapUp(ctx context.Context, in *wrapUpInput) (*boardAgentOutput, error) {
	if err := mayActFor(ctx, in.Name); err != nil {
		return nil, err
	}
	if err := s.needRouting(); err != nil {
		return nil, err
	}
	v, err := s.cfg.Routing.WrapUp(ctx, activities.WrapUpRequest{Agent: in.Name, Disposition: in.Body.Disposition, Notes: in.Body.Notes})
	if err != nil {
		return nil, s.routingFail("end wrap-up", err, huma.Error409Conflict)
	}
	return &boardAgentOutput{Body: boardAgentOf(v)}, nil
}
