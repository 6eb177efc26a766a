package devtemporal

import (
	"maps"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
)

// TestTunedDynamicConfigKeys checks that every key in TunedDynamicConfig is
// registered in the server library (a typo would silently do nothing) and
// that the server reads each value back as intended (a wrong Go type, such as
// an int where a duration is expected, would fall back to the default or be
// read as seconds).
func TestTunedDynamicConfigKeys(t *testing.T) {
	tuned := TunedDynamicConfig()
	if unknown := unknownDynamicConfigKeys(tuned); len(unknown) > 0 {
		t.Fatalf("keys not registered in the server's dynamic config: %q", unknown)
	}
	// The registry lookup itself must catch a typo.
	if got := unknownDynamicConfigKeys(map[string]any{"history.transferProcessorMaxPolRPS": 1}); len(got) != 1 {
		t.Fatalf("typo not detected: %v", got)
	}

	col := dynamicconfig.NewCollection(staticDynamicConfig(nil), log.NewNoopLogger())
	const ns, tq = "default", "media-1"
	wf := enumspb.TASK_QUEUE_TYPE_WORKFLOW
	read := map[string]func() any{
		"history.transferProcessorMaxPollRPS":    func() any { return dynamicconfig.TransferProcessorMaxPollRPS.Get(col)() },
		"history.timerProcessorMaxPollRPS":       func() any { return dynamicconfig.TimerProcessorMaxPollRPS.Get(col)() },
		"history.visibilityProcessorMaxPollRPS":  func() any { return dynamicconfig.VisibilityProcessorMaxPollRPS.Get(col)() },
		"history.outboundProcessorMaxPollRPS":    func() any { return dynamicconfig.OutboundProcessorMaxPollRPS.Get(col)() },
		"history.timerProcessorMaxTimeShift":     func() any { return dynamicconfig.TimerProcessorMaxTimeShift.Get(col)() },
		"matching.numTaskqueueReadPartitions":    func() any { return dynamicconfig.MatchingNumTaskqueueReadPartitions.Get(col)(ns, tq, wf) },
		"matching.numTaskqueueWritePartitions":   func() any { return dynamicconfig.MatchingNumTaskqueueWritePartitions.Get(col)(ns, tq, wf) },
		"history.longPollExpirationInterval":     func() any { return dynamicconfig.HistoryLongPollExpirationInterval.Get(col)(ns) },
		"frontend.persistenceMaxQPS":             func() any { return dynamicconfig.FrontendPersistenceMaxQPS.Get(col)() },
		"history.persistenceMaxQPS":              func() any { return dynamicconfig.HistoryPersistenceMaxQPS.Get(col)() },
		"system.enableActivityEagerExecution":    func() any { return dynamicconfig.EnableActivityEagerExecution.Get(col)(ns) },
		"system.enableEagerWorkflowStart":        func() any { return dynamicconfig.EnableEagerWorkflowStart.Get(col)(ns) },
		"frontend.enableUpdateWorkflowExecution": func() any { return dynamicconfig.FrontendEnableUpdateWorkflowExecution.Get(col)(ns) },
		"history.maxInFlightUpdates":             func() any { return dynamicconfig.WorkflowExecutionMaxInFlightUpdates.Get(col)(ns) },
		"frontend.namespaceRPS.visibility":       func() any { return dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Get(col)(ns) },
		"history.hostLevelCacheMaxSize":          func() any { return dynamicconfig.HistoryCacheHostLevelMaxSize.Get(col)() },
	}
	for _, k := range slices.Sorted(maps.Keys(tuned)) {
		get, ok := read[k]
		if !ok {
			t.Errorf("%s: add a read-back check for this key", k)
			continue
		}
		if got, want := get(), tuned[k]; got != want {
			t.Errorf("%s: server reads %v (%T), want %v (%T)", k, got, got, want, want)
		}
	}
	if d := tuned["history.timerProcessorMaxTimeShift"].(time.Duration); d != 10*time.Millisecond {
		t.Errorf("timer max time shift %v", d)
	}

	// Overrides win over the tuned values.
	over := dynamicconfig.NewCollection(staticDynamicConfig(map[string]any{"history.transferProcessorMaxPollRPS": 7}), log.NewNoopLogger())
	if got := dynamicconfig.TransferProcessorMaxPollRPS.Get(over)(); got != 7 {
		t.Errorf("override: got %d", got)
	}
}
