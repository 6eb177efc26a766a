package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/telemetry"
)

func jsonLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// A call's log lines carry call_id and workflow_id whoever wrote them:
// voxflow's code with "call" or "call_id", the SDK's loggers with
// WorkflowID (renamed to snake_case like its other keys).
func TestCallLogFields(t *testing.T) {
	var b bytes.Buffer
	log := telemetry.NewLogger(&b, config.LogJSON, slog.LevelInfo)
	log.Info("no routing layer", "queue", "sales", "call", "c1")
	log.With("call_id", "c2", "worker", "m1").Info("call ended", "cause", "hangup")
	// What the SDK's activity logger writes through its slog adapter.
	sdklog.With(sdklog.NewStructuredLogger(log), "WorkflowID", "call-c3", "RunID", "r3", "ActivityType", "media.Play").Warn("activity error", "Error", "boom")
	log.Info("router", "WorkflowID", "voxflow-router") // not a call: no call_id
	log.WithGroup("g").Info("grouped", "call", "c4")   // inside a group: left alone
	log.Debug("hidden", "call", "c5")

	lines := jsonLines(t, &b)
	if len(lines) != 5 {
		t.Fatalf("%d lines: %s", len(lines), b.String())
	}
	for i, want := range []map[string]string{
		{"call_id": "c1", "workflow_id": "call-c1", "queue": "sales"},
		{"call_id": "c2", "workflow_id": "call-c2", "worker": "m1", "cause": "hangup"},
		{"call_id": "c3", "workflow_id": "call-c3", "run_id": "r3", "activity_type": "media.Play", "error": "boom"},
		{"workflow_id": "voxflow-router"},
	} {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %q (%v)", i, k, lines[i][k], v, lines[i])
			}
		}
		for _, k := range []string{"call", "WorkflowID", "RunID"} {
			if _, ok := lines[i][k]; ok {
				t.Errorf("line %d keeps %s: %v", i, k, lines[i])
			}
		}
	}
	if _, ok := lines[3]["call_id"]; ok {
		t.Errorf("a workflow that is no call got a call_id: %v", lines[3])
	}
	if g, _ := lines[4]["g"].(map[string]any); g["call"] != "c4" {
		t.Errorf("grouped line: %v", lines[4])
	}
}

func TestTextLogs(t *testing.T) {
	var b bytes.Buffer
	telemetry.NewLogger(&b, config.LogText, telemetry.Level(true)).Debug("dtmf", "call", "c1", "digit", "5")
	if got := b.String(); !strings.Contains(got, "level=DEBUG msg=dtmf call_id=c1 digit=5 workflow_id=call-c1") {
		t.Errorf("text line: %q", got)
	}
}
