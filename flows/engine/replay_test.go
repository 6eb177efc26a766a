package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows/engine"
)

// TestReplayRecordedHistories replays real call histories (recorded with
// `go test ./e2e -run TestRecordHistories -record`) against the current
// engine code. A failure means a change to workflow code would break calls
// in flight: version it with workflow.GetVersion. Histories of earlier
// versions stay (v0-*.json: before the fast path; v1-*.json: before the
// router) and must keep replaying;
// after a versioned change, rename the current ones with their version and
// record new ones.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d recorded histories, want at least 4", len(files))
	}
	sawBad := false
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(engine.CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
			err := r.ReplayWorkflowHistoryFromJSONFile(nil, file)
			if strings.HasPrefix(filepath.Base(file), "nondeterministic-") {
				sawBad = true
				if err == nil || !strings.Contains(strings.ToLower(err.Error()), "nondetermin") {
					t.Fatalf("replay of a deliberately non-deterministic history: got %v, want a nondeterminism error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
	if !sawBad {
		t.Error("no nondeterministic-*.json history: the replayer's ability to detect divergence is untested")
	}
}

// TestReplayCallWithModelNodes replays a billing-line call whose intent,
// assistant replies and summary came from a model (recorded against the
// fake endpoint by e2e TestBillingLineOnAModel -record). The replayer runs
// no activities: the answers are read from the history, so a replay (or
// a reset) never asks the model again and cannot get another answer.
func TestReplayCallWithModelNodes(t *testing.T) {
	file := filepath.Join("testdata", "histories", "billing-line-llm.json")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, act := range []string{activities.ActIntent, activities.ActChat, activities.ActSummarize} {
		if !strings.Contains(string(b), `"`+act+`"`) {
			t.Fatalf("%s schedules no %s: re-record it", file, act)
		}
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(engine.CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
		t.Fatalf("replay: %v", err)
	}
}
