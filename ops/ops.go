// Package ops is what operators use on live and past calls: list them by
// flow and node, show one's timeline, find stuck ones, replay a history
// against the current engine code, and reset a call to an earlier node. It
// talks to Temporal only, so it works against `voxflow dev` and production.
package ops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows/engine"
)

// Sentinel errors.
var (
	ErrNoSuchNode = errors.New("the call never entered that node")
	ErrNotACall   = errors.New("not a voxflow call")
)

// CallSummary is one row of List.
type CallSummary struct {
	CallID     string    `json:"call_id"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	Flow       string    `json:"flow"`
	Version    int64     `json:"version"`
	Node       string    `json:"node"`
	NodeSince  time.Time `json:"node_since,omitempty"`
	Status     string    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	ClosedAt   time.Time `json:"closed_at,omitempty"`
}

// Filter selects calls.
type Filter struct {
	Flow    string
	Node    string
	Running bool
	Limit   int
}

// Query renders the filter as a Temporal visibility query.
func (f Filter) Query() string {
	parts := []string{fmt.Sprintf("WorkflowType = %q", activities.CallWorkflowName)}
	if f.Flow != "" {
		parts = append(parts, fmt.Sprintf("%s = %q", activities.AttrFlow, f.Flow))
	}
	if f.Node != "" {
		parts = append(parts, fmt.Sprintf("%s = %q", activities.AttrNode, f.Node))
	}
	if f.Running {
		parts = append(parts, "ExecutionStatus = 'Running'")
	}
	return strings.Join(parts, " AND ")
}

// List returns calls matching the filter, newest first.
func List(ctx context.Context, c client.Client, f Filter) ([]CallSummary, error) {
	return list(ctx, c, f.Query(), f.Limit)
}

func list(ctx context.Context, c client.Client, query string, limit int) ([]CallSummary, error) {
	if limit <= 0 {
		limit = 100
	}
	dc := converter.GetDefaultDataConverter()
	var out []CallSummary
	var token []byte
	for len(out) < limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, PageSize: int32(min(limit-len(out), 1000)), NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list calls (%s): %w", query, err)
		}
		if out == nil && len(resp.Executions) > 0 {
			out = make([]CallSummary, 0, len(resp.Executions))
		}
		for _, e := range resp.Executions {
			out = append(out, callSummary(e, dc))
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			break
		}
	}
	return out, nil
}

// callSummary is one row of a visibility list as a CallSummary. Search
// attributes the call has not set yet (or that do not decode) stay zero.
func callSummary(e *workflowpb.WorkflowExecutionInfo, dc converter.DataConverter) CallSummary {
	s := CallSummary{
		WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
		CallID: strings.TrimPrefix(e.GetExecution().GetWorkflowId(), "call-"),
		Status: statusName(e.GetStatus()), StartedAt: e.GetStartTime().AsTime(),
	}
	if e.GetCloseTime() != nil {
		s.ClosedAt = e.GetCloseTime().AsTime()
	}
	fields := e.GetSearchAttributes().GetIndexedFields()
	for _, a := range [...]struct {
		name string
		dst  any
	}{
		{activities.AttrFlow, &s.Flow}, {activities.AttrVersion, &s.Version},
		{activities.AttrNode, &s.Node}, {activities.AttrNodeSince, &s.NodeSince},
	} {
		if p, ok := fields[a.name]; ok {
			_ = dc.FromPayload(p, a.dst)
		}
	}
	return s
}

// statusNames is statusName's table: WORKFLOW_EXECUTION_STATUS_TIMED_OUT ->
// timed_out, computed once rather than per listed call.
var statusNames = func() map[enumspb.WorkflowExecutionStatus]string {
	m := make(map[enumspb.WorkflowExecutionStatus]string, len(enumspb.WorkflowExecutionStatus_name))
	for v, name := range enumspb.WorkflowExecutionStatus_name {
		m[enumspb.WorkflowExecutionStatus(v)] = strings.ToLower(strings.TrimPrefix(name, "WORKFLOW_EXECUTION_STATUS_"))
	}
	return m
}()

func statusName(s enumspb.WorkflowExecutionStatus) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_"))
}

// Show returns where a call is (or ended): its path with timings and variables.
// It asks the call's workflow, so an engine worker must be running.
func Show(ctx context.Context, c client.Client, callID string) (engine.CallState, error) {
	var st engine.CallState
	v, err := c.QueryWorkflow(ctx, activities.WorkflowID(callID), "", activities.QueryState)
	if err != nil {
		return st, fmt.Errorf("query call %s: %w", callID, err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("decode state of call %s: %w", callID, err)
	}
	return st, nil
}

// StuckCall is a running call that sits in one node too long or whose
// activity keeps failing.
type StuckCall struct {
	CallSummary
	Reason string `json:"reason"`
}

// Stuck finds running calls that entered their current node more than
// olderThan ago, or whose pending activity has failed and is retrying.
func Stuck(ctx context.Context, c client.Client, olderThan time.Duration, now time.Time) ([]StuckCall, error) {
	running, err := List(ctx, c, Filter{Running: true, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var out []StuckCall
	for _, s := range running {
		var reasons []string
		if !s.NodeSince.IsZero() && now.Sub(s.NodeSince) > olderThan {
			reasons = append(reasons, fmt.Sprintf("in node %s for %s", s.Node, now.Sub(s.NodeSince).Round(time.Second)))
		}
		desc, err := c.DescribeWorkflowExecution(ctx, s.WorkflowID, s.RunID)
		if err != nil {
			return nil, fmt.Errorf("describe call %s: %w", s.CallID, err)
		}
		for _, pa := range desc.PendingActivities {
			if pa.Attempt > 1 || pa.LastFailure != nil {
				msg := ""
				if pa.LastFailure != nil {
					msg = ": " + pa.LastFailure.Message
				}
				reasons = append(reasons, fmt.Sprintf("activity %s failing (attempt %d)%s", pa.ActivityType.GetName(), pa.Attempt, msg))
			}
		}
		if len(reasons) > 0 {
			out = append(out, StuckCall{CallSummary: s, Reason: strings.Join(reasons, "; ")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeSince.Before(out[j].NodeSince) })
	return out, nil
}

// History fetches the full event history of a call's latest run.
func History(ctx context.Context, c client.Client, callID, runID string) (*historypb.History, error) {
	iter := c.GetWorkflowHistory(ctx, activities.WorkflowID(callID), runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			return nil, fmt.Errorf("read history of call %s: %w", callID, err)
		}
		h.Events = append(h.Events, e)
	}
	if len(h.Events) == 0 {
		return nil, fmt.Errorf("call %s: %w", callID, ErrNotACall)
	}
	return h, nil
}

// Replay replays a history against the engine code in this binary. A nil
// error means the code is deterministic for it; otherwise the error
// describes the first divergence. dc is the data converter the calls' client
// uses (nil: the SDK's default); encrypted histories need the same keys.
func Replay(h *historypb.History, dc converter.DataConverter) (err error) {
	// The SDK panics on a history whose payloads dc cannot decode (one
	// encrypted with a key it lacks): that is an answer, not a crash.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("replay: %v", p)
		}
	}()
	o := worker.WorkflowReplayerOptions{DataConverter: dc}
	if dc != nil { // failures' encoded messages and details decode with it too
		o.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc})
	}
	r, err := worker.NewWorkflowReplayerWithOptions(o)
	if err != nil {
		return fmt.Errorf("replayer: %w", err)
	}
	engine.Register(r)
	return r.ReplayWorkflowHistory(nil, h)
}

// Reset resets a call to the workflow task in which it last entered node
// (in its current run): the call continues from there with the state it had
// then. It returns the new run ID.
func Reset(ctx context.Context, c client.Client, namespace, callID, node, reason string) (string, error) {
	st, err := Show(ctx, c, callID)
	if err != nil {
		return "", err
	}
	desc, err := c.DescribeWorkflowExecution(ctx, activities.WorkflowID(callID), "")
	if err != nil {
		return "", fmt.Errorf("describe call %s: %w", callID, err)
	}
	runID := desc.WorkflowExecutionInfo.Execution.RunId
	var step *records.Step
	for i := len(st.Path) - 1; i >= 0; i-- {
		if st.Path[i].Node == node && st.Path[i].RunID == runID {
			step = &st.Path[i]
			break
		}
	}
	if step == nil {
		return "", fmt.Errorf("reset call %s to %q: %w in its current run", callID, node, ErrNoSuchNode)
	}
	h, err := History(ctx, c, callID, runID)
	if err != nil {
		return "", err
	}
	finish, err := resetPoint(h, step.Event)
	if err != nil {
		return "", fmt.Errorf("reset call %s to %q: %w", callID, node, err)
	}
	if reason == "" {
		reason = "voxflow calls reset --to-node " + node
	}
	resp, err := c.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 namespace,
		WorkflowExecution:         desc.WorkflowExecutionInfo.Execution,
		Reason:                    reason,
		WorkflowTaskFinishEventId: finish,
		RequestId:                 fmt.Sprintf("reset-%s-%s-%d", callID, node, finish),
	})
	if err != nil {
		return "", fmt.Errorf("reset call %s to %q: %w", callID, node, err)
	}
	return resp.RunId, nil
}

// resetPoint finds the completion of the workflow task that was running
// when the history had `length` events: resetting there re-runs that task,
// which enters the node again.
func resetPoint(h *historypb.History, length int64) (int64, error) {
	for _, e := range h.Events {
		if e.EventId > length && e.EventType == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			return e.EventId, nil
		}
	}
	return 0, errors.New("no completed workflow task after that node was entered")
}
