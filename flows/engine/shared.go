package engine

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
)

// Changes to the commands a call issues are gated by workflow.GetVersion
// through c.version (compat.go: listed in changes, capped by the worker's
// compat ceiling), so histories recorded before a change keep replaying
// (testdata/histories) while new calls take the new path.
const (
	// changeFastPath: shared activities run as local activities in the
	// engine worker; media activities stop heartbeating (a dead media
	// worker is reported by platform's watchdog as a media-lost signal).
	changeFastPath  = "fast-path"
	fastPathVersion = 1
	// changeLocalAI: a caller turn's AI activities (ai.Intent, ai.Chat)
	// run as local activities in the engine worker.
	changeLocalAI  = "local-ai"
	localAIVersion = 1
)

// loadFlowsOptions bound pinning a flow by name (a store read).
var loadFlowsOptions = sharedOptions{StartToClose: 10 * time.Second,
	Retry: &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}}}

// sharedOptions are the timeouts and retries of a shared activity.
type sharedOptions struct {
	StartToClose    time.Duration
	ScheduleToClose time.Duration
	Retry           *temporal.RetryPolicy
}

// shared runs a shared activity (call records, flow loading, picking a
// media worker). On the fast path it is a local activity: the engine worker
// runs it within the workflow task, with no dispatch through the server
// and no activity events; calls from before run it on the shared queue.
func (c *call) shared(ctx workflow.Context, name string, o sharedOptions, in, out any) error {
	var args []any
	if in != nil {
		args = append(args, in)
	}
	if c.fast {
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: o.StartToClose, ScheduleToCloseTimeout: o.ScheduleToClose, RetryPolicy: o.Retry,
		})
		return workflow.ExecuteLocalActivity(lctx, name, args...).Get(lctx, out)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           activities.SharedQueue,
		StartToCloseTimeout: o.StartToClose, ScheduleToCloseTimeout: o.ScheduleToClose, RetryPolicy: o.Retry,
	})
	return workflow.ExecuteActivity(actx, name, args...).Get(actx, out)
}
