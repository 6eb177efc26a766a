package engine_test

import (
	"encoding/json"
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

// TestReplayCallWithModelNodes replays billing-line calls whose intent,
// assistant replies and summary came from a model (recorded against the
// fake endpoint by e2e TestBillingLineOnAModel -record): v2-* with the AI
// activities on the shared queue, the current one with a turn's as local
// activities (changeLocalAI). The replayer runs no activities: answers
// are read from the history (activity results, local activity markers),
// so a replay (or a reset) never asks the model again.
func TestReplayCallWithModelNodes(t *testing.T) {
	for _, name := range []string{"v2-billing-line-llm.json", "billing-line-llm.json"} {
		file := filepath.Join("testdata", "histories", name)
		seen := modelActivities(t, file)
		for _, act := range []string{activities.ActIntent, activities.ActChat, activities.ActSummarize} {
			if !seen[act] {
				t.Fatalf("%s runs no %s: re-record it", file, act)
			}
		}
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(engine.CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
			t.Fatalf("replay %s: %v", name, err)
		}
	}
}

// modelActivities lists the activity types a history ran, scheduled or
// local (a local activity's marker names its type in its data payload).
func modelActivities(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Events []struct {
			Scheduled *struct {
				ActivityType struct{ Name string } `json:"activityType"`
			} `json:"activityTaskScheduledEventAttributes"`
			Marker *struct {
				Details map[string]struct {
					Payloads []struct{ Data []byte } `json:"payloads"`
				} `json:"details"`
			} `json:"markerRecordedEventAttributes"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range h.Events {
		if e.Scheduled != nil {
			seen[e.Scheduled.ActivityType.Name] = true
		}
		if e.Marker == nil {
			continue
		}
		for _, p := range e.Marker.Details["data"].Payloads {
			var d struct{ ActivityType string }
			if json.Unmarshal(p.Data, &d) == nil && d.ActivityType != "" {
				seen[d.ActivityType] = true
			}
		}
	}
	return seen
}
