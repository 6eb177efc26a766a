package router_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing/router"
)

// TestReplayRouterHistories replays real router histories (recorded with
// `go test ./e2e -run TestRecordHistories -record`) against the current
// router code: a failure means a change would break the running router.
// Version such a change with workflow.GetVersion, keep the old history
// under a versioned name and record a new one.
func TestReplayRouterHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded router history")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(router.RouterWorkflow, workflow.RegisterOptions{Name: activities.RouterWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
