// Package platform wires voxflow's parts into running processes: the
// engine worker, the shared activity worker, channel workers and the call
// launcher. `voxflow dev`, `voxflow engine` and the simulator share it.
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
	"go.temporal.io/sdk/worker"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/text"
)

// Workers is a set of started Temporal workers stopped together.
type Workers []worker.Worker

// Stop stops every worker.
func (ws Workers) Stop() {
	for _, w := range ws {
		w.Stop()
	}
}

// StartEngine runs CallWorkflow on activities.EngineQueue.
func StartEngine(c client.Client) (worker.Worker, error) {
	w := worker.New(c, activities.EngineQueue, worker.Options{})
	engine.Register(w)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start engine worker: %w", err)
	}
	return w, nil
}

// StartShared runs the shared (non-media) activities.
func StartShared(c client.Client, acts *builtin.Activities) (worker.Worker, error) {
	w := worker.New(c, activities.SharedQueue, worker.Options{})
	acts.Register(w)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start shared activity worker: %w", err)
	}
	return w, nil
}

// StartTextChannel runs a text channel's media activities on its queue.
func StartTextChannel(c client.Client, ch *text.Channel) (worker.Worker, error) {
	w := worker.New(c, ch.Queue(), worker.Options{})
	ch.Register(w)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start text channel worker: %w", err)
	}
	return w, nil
}

// HangupSignaler signals CallWorkflow that the caller hung up.
func HangupSignaler(c client.Client) text.HangupSignaler {
	return func(ctx context.Context, callID string) error {
		return c.SignalWorkflow(ctx, activities.WorkflowID(callID), "", activities.SignalHangup, nil)
	}
}

// CallClosedChecker reports whether a call's workflow has closed (completed,
// failed, terminated, timed out) or does not exist: a SIP media worker hangs
// up a call whose workflow ended without hanging it up.
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
		WorkflowExecutionTimeout: 24 * time.Hour,
	}, activities.CallWorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("start call %s on flow %q: %w", in.Call.ID, in.Flow.Name, err)
	}
	return run, nil
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

// SIPCallStarter starts CallWorkflow for calls a SIP media worker answered.
func SIPCallStarter(c client.Client) func(context.Context, sipworker.CallStart) error {
	return func(ctx context.Context, s sipworker.CallStart) error {
		_, err := StartCall(ctx, c, engine.CallInput{Call: s.Call, Flow: s.Flow, Vars: s.Vars, MediaQueue: s.MediaQueue,
			Recovery: engine.Recovery{CallbackTo: callbackURI(s.Call.Headers["From"])}})
		return err
	}
}

// callbackURI is the caller's address from a From header value
// ("Name" <sip:+1555@host:port>;tag=x -> sip:+1555@host:port), so a
// callback after a media worker dies reaches the phone that called.
func callbackURI(from string) string {
	if i := strings.IndexByte(from, '<'); i >= 0 {
		if j := strings.IndexByte(from[i:], '>'); j > 0 {
			return from[i+1 : i+j]
		}
	}
	uri, _, _ := strings.Cut(from, ";")
	return strings.TrimSpace(uri)
}
