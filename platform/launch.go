package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
)

// CallTimeout bounds a call's workflow (every run of it together).
const CallTimeout = 24 * time.Hour

// NewCallID returns a fresh call ID.
func NewCallID() string { return uuid.NewString() }

// StartCall starts CallWorkflow for a call. The workflow ID is derived from
// the call ID, so a retried start never runs the same call twice.
func StartCall(ctx context.Context, c client.Client, in engine.CallInput) (client.WorkflowRun, error) {
	if in.Call.ID == "" {
		in.Call.ID = NewCallID()
	}
	if in.Call.StartedAt.IsZero() {
		in.Call.StartedAt = time.Now().UTC()
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       activities.WorkflowID(in.Call.ID),
		TaskQueue:                activities.EngineQueue,
		WorkflowExecutionTimeout: CallTimeout,
		// When this client's process runs an engine worker (voxflow dev),
		// the first workflow task comes back with the start instead of
		// through matching: one dispatch less per call.
		EnableEagerStart: true,
	}, activities.CallWorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("start call %s on flow %q: %w", in.Call.ID, in.Flow.Name, err)
	}
	return run, nil
}

// CallStarter starts CallWorkflow for the calls a channel answered.
func CallStarter(c client.Client) func(context.Context, activities.CallStart) error {
	return func(ctx context.Context, s activities.CallStart) error {
		_, err := StartCall(ctx, c, engine.CallInput{
			Call: flows.CallInfo{ID: s.CallID, From: s.From, To: s.To, Channel: s.Channel, StartedAt: s.StartedAt, Headers: s.Headers},
			Flow: s.Flow, Vars: s.Vars, MediaQueue: s.MediaQueue,
			Recovery: engine.Recovery{CallbackTo: s.CallbackTo},
		})
		return err
	}
}

// AwaitCall waits for a call's workflow to finish and decodes its record.
// It re-polls every half second instead of holding one long poll: on the
// tuned single-node server a dropped completion notification can leave a
// long poll waiting until it expires, while a fresh poll sees the closed
// workflow at once. Only the call's own failure, or ctx, ends the wait.
func AwaitCall(ctx context.Context, c client.Client, callID string, out any) error {
	for {
		pollCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := c.GetWorkflow(pollCtx, activities.WorkflowID(callID), "").Get(pollCtx, out)
		cancel()
		var failed *temporal.WorkflowExecutionError
		if err == nil || ctx.Err() != nil || errors.As(err, &failed) {
			return err
		}
	}
}

// HangupSignaler signals CallWorkflow that the caller hung up.
func HangupSignaler(c client.Client) func(ctx context.Context, callID string) error {
	return func(ctx context.Context, callID string) error {
		return c.SignalWorkflow(ctx, activities.WorkflowID(callID), "", activities.SignalHangup, nil)
	}
}

// CallClosedChecker reports whether a call's workflow has closed (completed,
// failed, terminated, timed out) or does not exist: a media worker hangs up
// a call whose workflow ended without hanging it up.
func CallClosedChecker(c client.Client) func(ctx context.Context, callID string) (bool, error) {
	return func(ctx context.Context, callID string) (bool, error) {
		d, err := c.DescribeWorkflowExecution(ctx, activities.WorkflowID(callID), "")
		if err != nil {
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				return true, nil
			}
			return false, fmt.Errorf("describe call %s: %w", callID, err)
		}
		return d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
	}
}

// LostTaskFailer fails, with activities.NewMediaTaskLost, the media
// activities of a call that are marked started within (after, before)
// (sipworker.Config.FailLostTasks): the worker asking holds the call and
// ran none of them, so their task never reached it.
func LostTaskFailer(c client.Client, namespace string) func(ctx context.Context, callID string, after, before time.Time) (int, error) {
	return func(ctx context.Context, callID string, after, before time.Time) (int, error) {
		wfID := activities.WorkflowID(callID)
		d, err := c.DescribeWorkflowExecution(ctx, wfID, "")
		if err != nil {
			return 0, fmt.Errorf("describe call %s: %w", callID, err)
		}
		runID := d.WorkflowExecutionInfo.GetExecution().GetRunId()
		failed := 0
		for _, a := range d.PendingActivities {
			started := a.GetLastStartedTime().AsTime()
			if a.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED || !strings.HasPrefix(a.GetActivityType().GetName(), "media.") ||
				!started.After(after) || !started.Before(before) {
				continue
			}
			err := c.CompleteActivityByID(ctx, namespace, wfID, runID, a.GetActivityId(), nil, activities.NewMediaTaskLost(a.GetActivityId()))
			if err != nil {
				return failed, fmt.Errorf("fail lost activity %s of call %s: %w", a.GetActivityId(), callID, err)
			}
			failed++
		}
		return failed, nil
	}
}

// AnswerSignaler tells a call's workflow that the other party of its
// bridged transfer answered (sipworker.Config.SignalAnswered).
func AnswerSignaler(c client.Client) func(ctx context.Context, callID string, ev activities.BridgeAnswered) error {
	return callSignaler[activities.BridgeAnswered](c, activities.SignalBridgeAnswered)
}

// SilenceSignaler tells a call's workflow that its bridge went quiet, or
// came back (sipworker.Config.SignalSilence).
func SilenceSignaler(c client.Client) func(ctx context.Context, callID string, ev activities.BridgeSilence) error {
	return callSignaler[activities.BridgeSilence](c, activities.SignalBridgeSilence)
}

// callSignaler sends a call's workflow a signal with a payload.
func callSignaler[T any](c client.Client, name string) func(ctx context.Context, callID string, ev T) error {
	return func(ctx context.Context, callID string, ev T) error {
		return c.SignalWorkflow(ctx, activities.WorkflowID(callID), "", name, ev)
	}
}
