package platform

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/platform/telemetry"
)

// Call metrics, counted by the engine worker as each call's workflow
// begins and ends. They go through workflow.GetMetricsHandler, which
// records nothing while a workflow replays, so a call is counted once
// however often its history is replayed; a continued run (a long call's
// continue-as-new) is not a new call.
const (
	MetricCallsStarted = "voxflow_calls_started"
	MetricCallsEnded   = "voxflow_calls_ended"
	MetricCallDuration = "voxflow_call_duration"
)

// callLabels are the call metrics' labels: of the tags the SDK adds to
// what workflow code records, the namespace, queue and workflow type.
var callLabels = []string{"channel", "outcome", "namespace", "task_queue", "workflow_type"}

func init() {
	telemetry.Declare(
		telemetry.Family{Name: MetricCallsStarted, Kind: telemetry.KindCounter,
			Help: "Calls whose workflow began, by channel (sip, webrtc, chat, sim); callbacks included.", Labels: callLabels},
		telemetry.Family{Name: MetricCallsEnded, Kind: telemetry.KindCounter,
			Help: "Calls whose workflow ended, by outcome (the CDR's: completed, caller_hangup, transferred, ...; failed when the workflow failed) and channel.", Labels: callLabels},
		telemetry.Family{Name: MetricCallDuration, Kind: telemetry.KindTimer,
			Help:    "Call duration as the CDR has it, from start to end, by channel and outcome.",
			Buckets: []float64{5, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200}, Labels: callLabels},
	)
}

// CallMetrics is the engine worker's interceptor that counts calls.
type CallMetrics struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow counts the call workflows (CallWorkflow, CallbackWorkflow).
func (*CallMetrics) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	switch workflow.GetInfo(ctx).WorkflowType.Name {
	case activities.CallWorkflowName, activities.CallbackWorkflowName:
		return &callCounter{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
	}
	return next
}

type callCounter struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (c *callCounter) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	channel := callChannel(in.Args)
	m := workflow.GetMetricsHandler(ctx)
	if workflow.GetInfo(ctx).ContinuedExecutionRunID == "" {
		m.WithTags(map[string]string{"channel": channel}).Counter(MetricCallsStarted).Inc(1)
	}
	out, err := c.Next.ExecuteWorkflow(ctx, in)
	if workflow.IsContinueAsNewError(err) {
		return out, err
	}
	outcome := records.OutcomeFailed
	if rec, ok := out.(records.CDR); ok && err == nil {
		outcome = rec.Outcome
		if rec.Channel != "" {
			channel = rec.Channel
		}
		tags := m.WithTags(map[string]string{"channel": channel, "outcome": outcome})
		tags.Timer(MetricCallDuration).Record(rec.Duration)
	}
	m.WithTags(map[string]string{"channel": channel, "outcome": outcome}).Counter(MetricCallsEnded).Inc(1)
	return out, err
}

// callChannel is the channel of a call workflow's input; callbacks dial
// over SIP.
func callChannel(args []any) string {
	if len(args) > 0 {
		if in, ok := args[0].(engine.CallInput); ok && in.Call.Channel != "" {
			return in.Call.Channel
		}
	}
	return "sip"
}
