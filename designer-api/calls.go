package designerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// Call errors. CallOps implementations return (or wrap) them; match with errors.Is.
var (
	// ErrCallNotFound: no call with that ID.
	ErrCallNotFound = errors.New("call not found")
	// ErrNoSuchNode: a reset named a node the call never entered in its current run.
	ErrNoSuchNode = errors.New("the call never entered that node in its current run")
	// ErrCallNotRunning: the call already ended.
	ErrCallNotRunning = errors.New("the call is not running")
)

// CallFilter selects calls for CallOps.List. Zero fields do not filter.
type CallFilter struct {
	Flow    string
	Node    string
	Running bool
	// Limit is the most calls returned (the API passes 1..1000).
	Limit int
}

// CallSummary is one call in a list.
type CallSummary struct {
	CallID     string    `json:"call_id"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	Flow       string    `json:"flow"`
	Version    int64     `json:"version"`
	Node       string    `json:"node"`
	NodeSince  time.Time `json:"node_since,omitzero"`
	Status     string    `json:"status" doc:"running, completed, failed, canceled, terminated, continued_as_new, timed_out"`
	StartedAt  time.Time `json:"started_at"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
}

// CallState is where a call is (or ended): the engine's state query.
type CallState struct {
	CallID      string         `json:"call_id"`
	WorkflowID  string         `json:"workflow_id,omitempty"`
	RunID       string         `json:"run_id,omitempty"`
	Flow        string         `json:"flow"`
	FlowVersion int            `json:"flow_version"`
	Node        string         `json:"node" doc:"Current node; empty when the call ended"`
	NodeFlow    string         `json:"node_flow,omitempty"`
	NodeSince   time.Time      `json:"node_since,omitzero"`
	Path        []records.Step `json:"path"`
	Vars        map[string]any `json:"vars,omitempty"`
	Steps       int            `json:"steps"`
	HungUp      bool           `json:"hung_up"`
	Ended       bool           `json:"ended"`
	Outcome     string         `json:"outcome,omitempty"`
}

// StuckCall is a running call sitting in one node too long or whose
// activity keeps failing.
type StuckCall struct {
	CallSummary
	Reason string `json:"reason"`
}

// ReplayResult says whether a call's history replays on this build's engine.
type ReplayResult struct {
	CallID        string `json:"call_id"`
	RunID         string `json:"run_id,omitempty"`
	Events        int    `json:"events"`
	Deterministic bool   `json:"deterministic"`
	Error         string `json:"error,omitempty" doc:"The first divergence, when not deterministic"`
}

// CallOps is what operators do on live calls. temporalops.NewCallOps
// implements it over a Temporal client (package ops); tests use fakes.
type CallOps interface {
	List(ctx context.Context, f CallFilter) ([]CallSummary, error)
	// Show returns a call's state; ErrCallNotFound if there is no such call.
	Show(ctx context.Context, callID string) (CallState, error)
	Stuck(ctx context.Context, olderThan time.Duration) ([]StuckCall, error)
	// Reset resets the call to the last time it entered node and returns the new run ID.
	Reset(ctx context.Context, callID, node, reason string) (string, error)
	Terminate(ctx context.Context, callID, reason string) error
	ReplayCheck(ctx context.Context, callID string) (ReplayResult, error)
	// History returns the latest run's Temporal event history as JSON, in
	// the format `temporal workflow show --output json` writes (the Temporal
	// UI and the SDK's replayer read it).
	History(ctx context.Context, callID string) (json.RawMessage, error)
}

// TimelineStep is one node of a call's timeline.
type TimelineStep struct {
	Node       string    `json:"node"`
	Flow       string    `json:"flow,omitempty"`
	Type       string    `json:"type"`
	EnteredAt  time.Time `json:"entered_at"`
	LeftAt     time.Time `json:"left_at,omitzero"`
	DurationMS int64     `json:"duration_ms" doc:"Time in the node (until now while the call is in it)"`
	Exit       string    `json:"exit,omitempty"`
	Input      string    `json:"input,omitempty"`
	Error      string    `json:"error,omitempty"`
	RunID      string    `json:"run_id,omitempty"`
	// AI is what an intent or llm node understood, turn by turn.
	AI []records.AITurn `json:"ai,omitempty" doc:"An intent or llm node's turns: utterance, intent, confidence, slots, sentiment, or reply and tool; source and model"`
}

// CallDetail is a call with its timeline.
type CallDetail struct {
	CallState
	// Origin is "live" (asked the running engine) or "record" (the stored CDR).
	Origin   string         `json:"origin" enum:"live,record"`
	Timeline []TimelineStep `json:"timeline"`
	// Events are what people did to the call besides the flow (a
	// supervisor listening, whispering, barging in) and the alerts raised
	// on it (actor "ai", action negative_sentiment), oldest first.
	Events []records.CallEvent `json:"events"`
	// Insights and Transcript come from the call record, once the call
	// has ended and its record (and summary) is saved.
	Insights   *records.Insights  `json:"insights,omitempty" doc:"The post-call summary, disposition, sentiment and key facts, when the flow asked for them and they are saved"`
	Transcript []records.ChatLine `json:"transcript,omitempty" doc:"A web chat's messages, or what a voice call's intent and llm nodes said (from flow) and heard (from customer), redacted; from the call record"`
}

func timeline(path []records.Step, now time.Time) []TimelineStep {
	out := make([]TimelineStep, 0, len(path))
	for _, p := range path {
		end := p.LeftAt
		if end.IsZero() {
			end = now
		}
		out = append(out, TimelineStep{Node: p.Node, Flow: p.Flow, Type: p.Type, EnteredAt: p.EnteredAt, LeftAt: p.LeftAt,
			DurationMS: max(0, end.Sub(p.EnteredAt).Milliseconds()), Exit: p.Outcome, Input: p.Input, Error: p.Error, RunID: p.RunID,
			AI: p.AI})
	}
	return out
}

const callIDPattern = `^[A-Za-z0-9_.:-]{1,128}$`

// CallIDParam is the path parameter naming a live or recorded call.
type CallIDParam struct {
	CallID string `path:"id" pattern:"^[A-Za-z0-9_.:-]{1,128}$" doc:"Call ID (the workflow ID without call-)"`
}

type listCallsInput struct {
	Flow    string `query:"flow"`
	Node    string `query:"node"`
	Running bool   `query:"running" doc:"Only running calls"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type callsOutput struct {
	Body struct {
		Calls []CallSummary `json:"calls" doc:"Newest first"`
	}
}

type stuckInput struct {
	OlderThan string `query:"older_than" default:"2m" doc:"A Go duration: calls in one node longer than this"`
}

type stuckOutput struct {
	Body struct {
		Calls []StuckCall `json:"calls"`
	}
}

type callOutput struct {
	Body CallDetail
}

type resetInput struct {
	CallIDParam
	Body struct {
		Node   string `json:"node" minLength:"1" maxLength:"128" doc:"A node the call entered in its current run"`
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

// ResetResult is a reset call.
type ResetResult struct {
	CallID string `json:"call_id"`
	RunID  string `json:"run_id" doc:"The new run"`
	Node   string `json:"node"`
}

type resetOutput struct {
	Body ResetResult
}

type terminateInput struct {
	CallIDParam
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	}
}

type replayOutput struct {
	Body ReplayResult
}

func (s *server) needCalls() error {
	if s.cfg.Calls == nil {
		return huma.Error503ServiceUnavailable("live calls are not available: no Temporal connection configured")
	}
	return nil
}

func callOp(id, method, path string, min Role, summary string) huma.Operation {
	return op(id, method, path, min, "Calls", summary)
}

func (s *server) registerCalls(api huma.API) {
	huma.Register(api, callOp("list-calls", http.MethodGet, "/calls", RoleViewer, "List calls, filtered by flow, node and running"),
		requires(s.needCalls, s.listCalls))
	huma.Register(api, callOp("stuck-calls", http.MethodGet, "/calls/stuck", RoleViewer,
		"Running calls in one node longer than older_than, or whose activity keeps failing"),
		requires(s.needCalls, s.stuckCalls))
	huma.Register(api, callOp("get-call", http.MethodGet, "/calls/{id}", RoleViewer,
		"A call's state and timeline: asked of the running engine, else from its stored CDR"),
		s.getCall)
	huma.Register(api, callOp("reset-call", http.MethodPost, "/calls/{id}/reset", RoleOperator,
		"Reset a running call to the last time it entered a node: it continues from there with the state it had then"),
		requires(s.needCalls, s.resetCall))

	o := callOp("terminate-call", http.MethodPost, "/calls/{id}/terminate", RoleOperator,
		"Terminate a running call at once (no hangup path runs)")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, requires(s.needCalls, s.terminateCall))

	huma.Register(api, callOp("call-history", http.MethodGet, "/calls/{id}/history", RoleOperator,
		"The call's Temporal event history as JSON (the format the Temporal CLI and UI read)"),
		requires(s.needCalls, s.callHistory))
	huma.Register(api, callOp("replay-call", http.MethodPost, "/calls/{id}/replay", RoleOperator,
		"Replay the call's history against this build's engine code: is it deterministic?"),
		requires(s.needCalls, s.replayCall))
}

func (s *server) listCalls(ctx context.Context, in *listCallsInput) (*callsOutput, error) {
	calls, err := s.cfg.Calls.List(ctx, CallFilter{Flow: in.Flow, Node: in.Node, Running: in.Running, Limit: in.Limit})
	if err != nil {
		return nil, s.fail("list calls", err)
	}
	out := &callsOutput{}
	out.Body.Calls = append([]CallSummary{}, calls...)
	return out, nil
}

func (s *server) stuckCalls(ctx context.Context, in *stuckInput) (*stuckOutput, error) {
	d, err := time.ParseDuration(in.OlderThan)
	if err != nil || d < 0 {
		return nil, huma.Error422UnprocessableEntity("bad duration",
			&huma.ErrorDetail{Message: "want a Go duration like 90s or 2m", Location: "query.older_than", Value: in.OlderThan})
	}
	calls, err := s.cfg.Calls.Stuck(ctx, d)
	if err != nil {
		return nil, s.fail("stuck calls", err)
	}
	out := &stuckOutput{}
	out.Body.Calls = append([]StuckCall{}, calls...)
	return out, nil
}

func (s *server) getCall(ctx context.Context, in *CallIDParam) (*callOutput, error) {
	d, err := s.callDetail(ctx, in.CallID)
	if err != nil {
		return nil, err
	}
	return &callOutput{Body: d}, nil
}

func (s *server) resetCall(ctx context.Context, in *resetInput) (*resetOutput, error) {
	reason := in.Body.Reason
	if reason == "" {
		reason = fmt.Sprintf("reset to node %s by %s (designer API)", in.Body.Node, who(ctx))
	}
	run, err := s.cfg.Calls.Reset(ctx, in.CallID, in.Body.Node, reason)
	if err != nil {
		return nil, s.fail("reset call", err)
	}
	s.audit(ctx, AuditCallReset, in.CallID, map[string]any{"node": in.Body.Node, "run_id": run, "reason": reason})
	return &resetOutput{Body: ResetResult{CallID: in.CallID, RunID: run, Node: in.Body.Node}}, nil
}

func (s *server) terminateCall(ctx context.Context, in *terminateInput) (*struct{}, error) {
	reason := ""
	if in.Body != nil {
		reason = in.Body.Reason
	}
	if reason == "" {
		reason = "terminated by " + who(ctx) + " (designer API)"
	}
	if err := s.cfg.Calls.Terminate(ctx, in.CallID, reason); err != nil {
		return nil, s.fail("terminate call", err)
	}
	s.audit(ctx, AuditCallTerminate, in.CallID, map[string]any{"reason": reason})
	return nil, nil
}

func (s *server) replayCall(ctx context.Context, in *CallIDParam) (*replayOutput, error) {
	r, err := s.cfg.Calls.ReplayCheck(ctx, in.CallID)
	if err != nil {
		return nil, s.fail("replay call", err)
	}
	return &replayOutput{Body: r}, nil
}

type historyOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

func (s *server) callHistory(ctx context.Context, in *CallIDParam) (*historyOutput, error) {
	h, err := s.cfg.Calls.History(ctx, in.CallID)
	if err != nil {
		return nil, s.fail("call history", err)
	}
	return &historyOutput{ContentType: "application/json", Body: h}, nil
}

// callDetail is the call's state and timeline with the events people
// added to it and, once it ended, its record's insights and transcript.
func (s *server) callDetail(ctx context.Context, id string) (CallDetail, error) {
	d, rec, err := s.callState(ctx, id)
	if err != nil {
		return d, err
	}
	d.Events = []records.CallEvent{}
	if s.cfg.Store == nil {
		return d, nil
	}
	ev, err := s.cfg.Store.CallEvents(ctx, id)
	if err != nil {
		return CallDetail{}, s.fail("get call events", err)
	}
	d.Events = append(d.Events, ev...)
	if rec == nil && d.Ended { // the engine still knows the call: its record may be saved
		r, err := s.cfg.Store.CDR(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return CallDetail{}, s.fail("get call record", err)
		}
		if err == nil {
			rec = &r
		}
	}
	if rec != nil {
		d.Insights, d.Transcript = rec.Insights, rec.Transcript
	}
	return d, nil
}

// callState asks the engine; a call it does not know (or no engine) falls
// back to the stored CDR, which it returns too.
func (s *server) callState(ctx context.Context, id string) (CallDetail, *records.CDR, error) {
	now := time.Now().UTC()
	if s.cfg.Calls != nil {
		st, err := s.cfg.Calls.Show(ctx, id)
		if err == nil {
			if st.CallID == "" {
				st.CallID = id
			}
			return CallDetail{CallState: st, Origin: "live", Timeline: timeline(st.Path, now)}, nil, nil
		}
		if !errors.Is(err, ErrCallNotFound) {
			return CallDetail{}, nil, s.fail("get call", err)
		}
	}
	if s.cfg.Store == nil {
		return CallDetail{}, nil, huma.Error404NotFound(fmt.Sprintf("call %q not found", id))
	}
	rec, err := s.cfg.Store.CDR(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return CallDetail{}, nil, huma.Error404NotFound(fmt.Sprintf("call %q not found", id))
	}
	if err != nil {
		return CallDetail{}, nil, s.fail("get call", err)
	}
	st := CallState{CallID: rec.CallID, WorkflowID: rec.WorkflowID, RunID: rec.RunID, Flow: rec.Flow,
		FlowVersion: rec.FlowVersion, Path: rec.Path, Vars: rec.Vars, Steps: len(rec.Path), Ended: true,
		Outcome: rec.Outcome, HungUp: rec.Outcome == records.OutcomeHungUp}
	if st.Path == nil {
		st.Path = []records.Step{}
	}
	return CallDetail{CallState: st, Origin: "record", Timeline: timeline(rec.Path, rec.EndedAt)}, &rec, nil
}
