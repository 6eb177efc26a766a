package ops

import (
	"fmt"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/voxflow/voxflow/activities"
)

// row is a visibility row as the server returns it: search attributes as
// JSON payloads.
func row(t testing.TB, id string, status enumspb.WorkflowExecutionStatus, closed bool, attrs map[string]any) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	started := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	e := &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run-" + id},
		Status:    status,
		StartTime: timestamppb.New(started),
	}
	if closed {
		e.CloseTime = timestamppb.New(started.Add(time.Minute))
	}
	if attrs != nil {
		e.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{}}
		for k, v := range attrs {
			p, err := converter.GetDefaultDataConverter().ToPayload(v)
			if err != nil {
				t.Fatal(err)
			}
			e.SearchAttributes.IndexedFields[k] = p
		}
	}
	return e
}

func TestCallSummary(t *testing.T) {
	started := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	since := time.Date(2026, 11, 27, 12, 0, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   *workflowpb.WorkflowExecutionInfo
		want CallSummary
	}{
		{"running, all attributes",
			row(t, "call-abc", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, false, map[string]any{
				activities.AttrFlow: "ivr-main", activities.AttrVersion: int64(3),
				activities.AttrNode: "menu", activities.AttrNodeSince: since,
			}),
			CallSummary{CallID: "abc", WorkflowID: "call-abc", RunID: "run-call-abc", Flow: "ivr-main", Version: 3,
				Node: "menu", NodeSince: since, Status: "running", StartedAt: started}},
		{"timed out, closed, no attributes",
			row(t, "call-x", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, true, nil),
			CallSummary{CallID: "x", WorkflowID: "call-x", RunID: "run-call-x", Status: "timed_out",
				StartedAt: started, ClosedAt: started.Add(time.Minute)}},
		{"continued as new, flow only",
			row(t, "call-y", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, true, map[string]any{activities.AttrFlow: "f"}),
			CallSummary{CallID: "y", WorkflowID: "call-y", RunID: "run-call-y", Flow: "f", Status: "continued_as_new",
				StartedAt: started, ClosedAt: started.Add(time.Minute)}},
		{"not a call- workflow ID, unknown status",
			row(t, "other", enumspb.WorkflowExecutionStatus(99), false, nil),
			CallSummary{CallID: "other", WorkflowID: "other", RunID: "run-other", Status: "99", StartedAt: started}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := callSummary(tc.in, converter.GetDefaultDataConverter())
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// BenchmarkCallSummary: one page of 100 rows of `calls list`; op = the page.
func BenchmarkCallSummary(b *testing.B) {
	rows := make([]*workflowpb.WorkflowExecutionInfo, 100)
	for i := range rows {
		rows[i] = row(b, fmt.Sprintf("call-%04d", i), enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, false, map[string]any{
			activities.AttrFlow: "ivr-main", activities.AttrVersion: int64(3),
			activities.AttrNode: "menu", activities.AttrNodeSince: time.Now().UTC(),
		})
	}
	dc := converter.GetDefaultDataConverter()
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range rows {
			_ = callSummary(e, dc)
		}
	}
}
