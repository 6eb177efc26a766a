package e2e

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/platform"
)

// mediaStep runs one media activity and a shared one the way a call does
// and reports what the media one ended with.
func mediaStep(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: "media-x", StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	shared := workflow.ExecuteActivity(ctx, "voxflow.Slow")
	err := workflow.ExecuteActivity(ctx, activities.ActPlay).Get(ctx, nil)
	_ = shared // left running: it is not media and must not be failed
	if activities.IsMediaTaskLost(err) {
		return "lost", nil
	}
	return "other", err
}

// platform.LostTaskFailer: a media activity marked started within the
// window is failed as lost (the workflow sees MediaTaskLost); outside the
// window, or not media, nothing is touched. It lives here, not in
// platform: a second Temporal server in platform's test binary leaves
// reconnecting goroutines that its dial tests' leak checks count.
func TestLostTaskFailer(t *testing.T) {
	ts, c := devtemporaltest.NewServer(t)
	w := worker.New(c, "media-x", worker.Options{})
	w.RegisterWorkflowWithOptions(mediaStep, workflow.RegisterOptions{Name: "mediaStep"})
	block := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() } // the task "never arrived"
	w.RegisterActivityWithOptions(block, activity.RegisterOptions{Name: activities.ActPlay})
	w.RegisterActivityWithOptions(block, activity.RegisterOptions{Name: "voxflow.Slow"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx := context.Background()
	before := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: activities.WorkflowID("lost"), TaskQueue: "media-x"}, "mediaStep")
	if err != nil {
		t.Fatal(err)
	}
	fail := platform.LostTaskFailer(c, ts.GetDefaultNamespace())
	waitFor(t, "both activities started", func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, activities.WorkflowID("lost"), "")
		return err == nil && len(d.PendingActivities) == 2 && d.PendingActivities[0].GetLastStartedTime() != nil &&
			d.PendingActivities[1].GetLastStartedTime() != nil
	})
	if n, err := fail(ctx, "lost", time.Now(), time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("window after the start: failed %d (%v), want 0", n, err)
	}
	n, err := fail(ctx, "lost", before.Add(-time.Second), time.Now().Add(time.Second))
	if err != nil || n != 1 {
		t.Fatalf("window around the start: failed %d (%v), want the media activity only", n, err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "lost" {
		t.Fatalf("workflow saw %q (%v), want lost", got, err)
	}
}
