// Package temporalops implements the designer API's Temporal-facing
// interfaces on a Temporal client: designerapi.CallOps over package ops,
// and designerapi.Simulator over the text channel (media/text) and
// platform.StartCall. It is a separate package so that designerapi and its
// tests do not link the Temporal server (package ops imports platform,
// which embeds it for `voxflow dev`).
package temporalops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
)

// CallOps operates on calls through Temporal.
type CallOps struct {
	client    client.Client
	namespace string
}

var _ designerapi.CallOps = (*CallOps)(nil)

// NewCallOps returns CallOps on c in namespace.
func NewCallOps(c client.Client, namespace string) *CallOps {
	return &CallOps{client: c, namespace: namespace}
}

// mapErr turns Temporal's and package ops' errors into designerapi's sentinels.
func mapErr(err error) error {
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf), errors.Is(err, ops.ErrNotACall):
		return fmt.Errorf("%w: %w", designerapi.ErrCallNotFound, err)
	case errors.Is(err, ops.ErrNoSuchNode):
		return fmt.Errorf("%w: %w", designerapi.ErrNoSuchNode, err)
	}
	return err
}

// List lists calls by flow, node and status.
func (o *CallOps) List(ctx context.Context, f designerapi.CallFilter) ([]designerapi.CallSummary, error) {
	calls, err := ops.List(ctx, o.client, ops.Filter{Flow: f.Flow, Node: f.Node, Running: f.Running, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]designerapi.CallSummary, len(calls))
	for i, c := range calls {
		out[i] = summary(c)
	}
	return out, nil
}

func summary(c ops.CallSummary) designerapi.CallSummary {
	return designerapi.CallSummary{CallID: c.CallID, WorkflowID: c.WorkflowID, RunID: c.RunID, Flow: c.Flow, Version: c.Version,
		Node: c.Node, NodeSince: c.NodeSince, Status: c.Status, StartedAt: c.StartedAt, ClosedAt: c.ClosedAt}
}

// Show asks the call's workflow for its state (an engine worker must run).
func (o *CallOps) Show(ctx context.Context, callID string) (designerapi.CallState, error) {
	st, err := ops.Show(ctx, o.client, callID)
	if err != nil {
		return designerapi.CallState{}, mapErr(err)
	}
	return state(st), nil
}

func state(st engine.CallState) designerapi.CallState {
	return designerapi.CallState{CallID: st.CallID, WorkflowID: activities.WorkflowID(st.CallID), Flow: st.Flow,
		FlowVersion: st.FlowVersion, Node: st.Node, NodeFlow: st.NodeFlow, NodeSince: st.NodeSince, Path: st.Path,
		Vars: st.Vars, Steps: st.Steps, HungUp: st.HungUp, Ended: st.Ended, Outcome: st.Outcome}
}

// Stuck lists running calls in one node longer than olderThan or with a failing activity.
func (o *CallOps) Stuck(ctx context.Context, olderThan time.Duration) ([]designerapi.StuckCall, error) {
	calls, err := ops.Stuck(ctx, o.client, olderThan, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]designerapi.StuckCall, len(calls))
	for i, c := range calls {
		out[i] = designerapi.StuckCall{CallSummary: summary(c.CallSummary), Reason: c.Reason}
	}
	return out, nil
}

// Reset resets a call to the last time it entered node.
func (o *CallOps) Reset(ctx context.Context, callID, node, reason string) (string, error) {
	run, err := ops.Reset(ctx, o.client, o.namespace, callID, node, reason)
	return run, mapErr(err)
}

// Terminate ends a running call at once.
func (o *CallOps) Terminate(ctx context.Context, callID, reason string) error {
	err := o.client.TerminateWorkflow(ctx, activities.WorkflowID(callID), "", reason)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// Either no such call, or it already ended.
		if _, derr := o.client.DescribeWorkflowExecution(ctx, activities.WorkflowID(callID), ""); derr == nil {
			return fmt.Errorf("terminate call %s: %w", callID, designerapi.ErrCallNotRunning)
		}
	}
	if err != nil {
		return fmt.Errorf("terminate call %s: %w", callID, mapErr(err))
	}
	return nil
}

// History returns the latest run's event history as protojson.
func (o *CallOps) History(ctx context.Context, callID string) (json.RawMessage, error) {
	h, err := ops.History(ctx, o.client, callID, "")
	if err != nil {
		return nil, mapErr(err)
	}
	b, err := protojson.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode history of call %s: %w", callID, err)
	}
	return b, nil
}

// ReplayCheck replays the call's latest run against this binary's engine.
func (o *CallOps) ReplayCheck(ctx context.Context, callID string) (designerapi.ReplayResult, error) {
	h, err := ops.History(ctx, o.client, callID, "")
	if err != nil {
		return designerapi.ReplayResult{}, mapErr(err)
	}
	res := designerapi.ReplayResult{CallID: callID, Events: len(h.Events), Deterministic: true}
	if st := h.Events[0].GetWorkflowExecutionStartedEventAttributes(); st != nil {
		res.RunID = st.GetOriginalExecutionRunId()
	}
	if err := ops.Replay(h); err != nil {
		res.Deterministic, res.Error = false, err.Error()
	}
	return res, nil
}

// Simulator runs simulated calls as real CallWorkflows whose media is a
// text channel (the one `voxflow dev` serves on its media-<id> queue).
type Simulator struct {
	client  client.Client
	channel *text.Channel
	log     *slog.Logger
	// MaxCall bounds one simulated call (default 30 minutes).
	MaxCall time.Duration

	mu       sync.Mutex
	sessions map[string]*text.Session
}

var _ designerapi.Simulator = (*Simulator)(nil)

// NewSimulator returns a Simulator placing calls on ch, whose media
// activities a worker must serve (platform.StartTextChannel).
func NewSimulator(c client.Client, ch *text.Channel, log *slog.Logger) *Simulator {
	if log == nil {
		log = slog.Default()
	}
	return &Simulator{client: c, channel: ch, log: log, MaxCall: 30 * time.Minute, sessions: map[string]*text.Session{}}
}

// Start opens an interactive text session and starts the call's workflow.
func (s *Simulator) Start(ctx context.Context, req designerapi.SimRequest, emit func(designerapi.SimEvent)) error {
	sess := s.channel.Open(req.CallID, nil)
	_, err := platform.StartCall(ctx, s.client, engine.CallInput{
		Call:       flows.CallInfo{ID: req.CallID, From: req.From, To: req.To, Channel: "text", StartedAt: time.Now().UTC()},
		Flow:       req.Flow,
		Vars:       req.Vars,
		MediaQueue: s.channel.Queue(),
	})
	if err != nil {
		s.channel.Close(req.CallID)
		return err
	}
	s.mu.Lock()
	s.sessions[req.CallID] = sess
	s.mu.Unlock()
	go s.follow(req.CallID, sess, emit)
	return nil
}

// follow relays the session's events until the workflow ends, then emits
// the end event with the CDR's outcome and path.
func (s *Simulator) follow(callID string, sess *text.Session, emit func(designerapi.SimEvent)) {
	defer func() {
		s.mu.Lock()
		delete(s.sessions, callID)
		s.mu.Unlock()
		s.channel.Close(callID)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), s.MaxCall)
	defer cancel()
	type result struct {
		rec records.CDR
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		for {
			r.err = platform.AwaitCall(ctx, s.client, callID, &r.rec)
			if r.err == nil || ctx.Err() != nil || !s.running(ctx, callID) {
				break
			}
			// The run we waited on ended but the call runs on: an operator
			// reset it to a new run. Follow that one.
		}
		done <- r
	}()
	for {
		select {
		case e := <-sess.Events():
			emit(simEvent(e))
		case r := <-done:
			for drained := false; !drained; {
				select {
				case e := <-sess.Events():
					emit(simEvent(e))
				default:
					drained = true
				}
			}
			end := designerapi.SimEvent{Kind: designerapi.SimEnd, Outcome: r.rec.Outcome}
			for _, p := range r.rec.Path {
				end.Path = append(end.Path, p.Node)
			}
			if r.err != nil {
				end.Error = r.err.Error()
				if end.Outcome == "" {
					end.Outcome = records.OutcomeFailed
				}
				s.log.Warn("simulated call failed", "call", callID, "error", r.err)
			}
			emit(end)
			return
		}
	}
}

// running reports whether the call's current run is running.
func (s *Simulator) running(ctx context.Context, callID string) bool {
	desc, err := s.client.DescribeWorkflowExecution(ctx, activities.WorkflowID(callID), "")
	return err == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

func simEvent(e text.Event) designerapi.SimEvent {
	kind := e.Kind
	switch e.Kind {
	case text.EventPrompt:
		kind = designerapi.SimPrompt
	case text.EventListen:
		kind = designerapi.SimListen
	case text.EventInput:
		kind = designerapi.SimInput
	case text.EventRecord:
		kind = designerapi.SimRecord
	case text.EventTransfer:
		kind = designerapi.SimTransfer
	case text.EventHangup:
		kind = designerapi.SimHangup
	}
	return designerapi.SimEvent{Kind: kind, Node: e.Node, Text: e.Text}
}

// Send delivers typed caller input (text.ParseInput) to a running call.
func (s *Simulator) Send(ctx context.Context, callID, input string) error {
	s.mu.Lock()
	sess := s.sessions[callID]
	s.mu.Unlock()
	if sess == nil {
		return fmt.Errorf("simulated call %s: %w", callID, designerapi.ErrCallNotRunning)
	}
	errc := make(chan error, 1)
	go func() { errc <- sess.Send(text.ParseInput(input)) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("simulated call %s: %w: %w", callID, designerapi.ErrCallNotRunning, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("send input to simulated call %s: %w", callID, ctx.Err())
	}
}
