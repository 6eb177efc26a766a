package campaign_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/dialer/campaign"
)

// TestReplayCampaignHistories replays real campaign histories (recorded
// with `go test ./e2e -run TestCampaignOnDev -record`) against the current
// workflow code: a failure means a change would break running campaigns.
// Version such a change with workflow.GetVersion, keep the old history
// under a versioned name and record a new one.
func TestReplayCampaignHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded campaign history")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(campaign.Workflow, workflow.RegisterOptions{Name: activities.CampaignWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
