// Package temporalops implements the designer API's Temporal-facing
// interfaces on a Temporal client: designerapi.CallOps over package ops,
// and designerapi.Simulator over package simulator. It is a separate package so that designerapi and its
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

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/simulator"
)

// CallOps operates on calls through Temporal.
type CallOps struct {
	client    client.Client
	namespace string
	// lists shares visibility lists between concurrent callers with the
	// same filter.
	lists flights[ops.Filter, []ops.CallSummary]
	// dc is the client's data converter, for replays (nil: default).
	dc converter.DataConverter
}

var _ designerapi.CallOps = (*CallOps)(nil)

// NewCallOps returns CallOps on c in namespace.
func NewCallOps(c client.Client, namespace string) *CallOps {
	return &CallOps{client: c, namespace: namespace}
}

// WithDataConverter sets the data converter c's client uses (payload
// encryption), so replays decode encrypted histories.
func (o *CallOps) WithDataConverter(dc converter.DataConverter) *CallOps {
	o.dc = dc
	return o
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

// List lists calls by flow, node and status. Concurrent callers with the same
// filter share one visibility list (see flights); each gets its own slice.
func (o *CallOps) List(ctx context.Context, f designerapi.CallFilter) ([]designerapi.CallSummary, error) {
	filter := ops.Filter{Flow: f.Flow, Node: f.Node, Running: f.Running, Limit: f.Limit}
	calls, err := o.lists.do(ctx, filter, func(ctx context.Context) ([]ops.CallSummary, error) {
		return ops.List(ctx, o.client, filter)
	})
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
	if err := ops.Replay(h, o.dc); err != nil {
		res.Deterministic, res.Error = false, err.Error()
	}
	return res, nil
}

// Simulator implements designerapi.Simulator with package simulator on a
// text channel: the designer's simulator panel runs the same simulated
// calls as `voxflow flows simulate`.
type Simulator struct {
	sim *simulator.Simulator
	log *slog.Logger

	mu    sync.Mutex
	calls map[string]*simulator.Call
}

var _ designerapi.Simulator = (*Simulator)(nil)

// NewSimulator returns a Simulator placing calls with sim.
func NewSimulator(sim *simulator.Simulator, log *slog.Logger) *Simulator {
	if log == nil {
		log = slog.Default()
	}
	return &Simulator{sim: sim, log: log, calls: map[string]*simulator.Call{}}
}

// Start places an interactive simulated call; emit gets its events.
func (s *Simulator) Start(ctx context.Context, req designerapi.SimRequest, emit func(designerapi.SimEvent)) error {
	started := make(chan struct{})
	call, err := s.sim.Start(ctx, simulator.Request{
		CallID: req.CallID, Flow: req.Flow, From: req.From, To: req.To, Vars: req.Vars,
	}, func(e simulator.Event) {
		<-started
		if e.Kind == simulator.EventEnd {
			s.mu.Lock()
			delete(s.calls, req.CallID)
			s.mu.Unlock()
			emit(s.endEvent(req.CallID, e))
			return
		}
		emit(simEvent(e))
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.calls[req.CallID] = call
	s.mu.Unlock()
	close(started)
	return nil
}

// endEvent is the last event: the call's outcome and path, or its failure.
func (s *Simulator) endEvent(callID string, e simulator.Event) designerapi.SimEvent {
	end := designerapi.SimEvent{Kind: designerapi.SimEnd, Outcome: e.Record.Outcome}
	for _, p := range e.Record.Path {
		end.Path = append(end.Path, p.Node)
	}
	if e.Err != nil {
		end.Error = e.Err.Error()
		if end.Outcome == "" {
			end.Outcome = records.OutcomeFailed
		}
		s.log.Warn("simulated call failed", "call", callID, "error", e.Err)
	}
	return end
}

func simEvent(e simulator.Event) designerapi.SimEvent {
	kind := e.Kind
	switch e.Kind {
	case simulator.EventPrompt:
		kind = designerapi.SimPrompt
	case simulator.EventListen:
		kind = designerapi.SimListen
	case simulator.EventInput:
		kind = designerapi.SimInput
	case simulator.EventRecord:
		kind = designerapi.SimRecord
	case simulator.EventTransfer:
		kind = designerapi.SimTransfer
	case simulator.EventHangup:
		kind = designerapi.SimHangup
	case simulator.EventAI:
		kind = designerapi.SimAI
	}
	return designerapi.SimEvent{Kind: kind, Node: e.Node, Text: e.Text}
}

// Send delivers typed caller input (text.ParseInput) to a running call.
func (s *Simulator) Send(ctx context.Context, callID, input string) error {
	s.mu.Lock()
	call := s.calls[callID]
	s.mu.Unlock()
	if call == nil {
		return fmt.Errorf("simulated call %s: %w", callID, designerapi.ErrCallNotRunning)
	}
	err := call.Send(ctx, input)
	if errors.Is(err, simulator.ErrEnded) {
		return fmt.Errorf("%w: %w", designerapi.ErrCallNotRunning, err)
	}
	return err
}
