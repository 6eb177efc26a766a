package devtemporal

import (
	"maps"
	"time"

	"go.temporal.io/server/common/dynamicconfig"
)

// TunedDynamicConfig returns the dynamic config voxflow runs its single-node
// embedded Temporal server with (Start applies it, and tests use it on
// temporaltest via devtemporaltest). Keys are the server's own names
// (go.temporal.io/server/common/dynamicconfig/constants.go at v1.31.2); a test
// checks that each one is registered and reads back as the intended value.
//
// Why: on defaults every dispatch hop (workflow task or activity task) costs
// ~50 ms once more than ~20 hops/s are in flight, so a caller turn takes
// ~100 ms. The history queue readers are rate limited to 20 reads/s per shard
// and task queues are split in 4 partitions with forwarding between them
// capped at 10/s. These settings are for one node with one shard; a production
// cluster tunes its own.
//
// Durations are time.Duration values: the server reads a bare number as seconds.
// The returned map is a fresh copy; callers may modify it.
func TunedDynamicConfig() map[string]any {
	return map[string]any{
		// History queue readers: 20 polls/s per shard by default is the
		// ~50 ms-per-hop floor once a few calls are active.
		"history.transferProcessorMaxPollRPS":   1000,
		"history.timerProcessorMaxPollRPS":      1000,
		"history.visibilityProcessorMaxPollRPS": 1000,
		"history.outboundProcessorMaxPollRPS":   1000,

		// Timers (input timeouts, inter-digit timeouts) fire within 10 ms of
		// their deadline instead of up to 1 s late.
		"history.timerProcessorMaxTimeShift": 10 * time.Millisecond,

		// One partition per task queue: no forwarding between partitions
		// (capped at matching.forwarderMaxRatePerSecond = 10/s), so a task
		// always meets the poller waiting for it.
		"matching.numTaskqueueReadPartitions":  1,
		"matching.numTaskqueueWritePartitions": 1,

		// A waiting WorkflowRun.Get (history long poll for the close event)
		// can miss the workflow's completion: the server's event notifier
		// (service/history/events/notifier.go) gives each watcher a channel of
		// one and drops a notification when an older one is still unread,
		// which happens once events come quickly (as they do with the
		// settings above). The poll then waits for this interval (20 s by
		// default) before the SDK polls again. Measured on temporaltest,
		// ~5% of Get calls on a 5-activity workflow stalled: by 3 s with
		// 3 s here, by at most 1 s with 1 s. Re-polling idle waiters once a
		// second is cheap on one node.
		"history.longPollExpirationInterval": time.Second,

		// Every queue join and agent change is an update on the one router
		// workflow; the default admits 10 in flight per workflow and refuses
		// the rest (the SDK then backs off for seconds). bench/routingload:
		// 32 concurrent joiners made 37 joins/s at 10, 1,762 at 1,000.
		"history.maxInFlightUpdates": 1000,

		// Not set: system.forceSearchAttributesCacheRefreshOnRead (temporaltest
		// sets it so that search attributes added at run time are visible at
		// once). It sends every read of the search attributes to persistence:
		// twice per row of a visibility list, so `calls list` of 100 rows cost
		// ~40 ms of CPU and, with a few clients, hit the persistence rate
		// limits; once per search attribute upsert too. Instead,
		// RegisterSearchAttributes waits until the attributes it adds are
		// usable. The persistence QPS limits stay raised as the Temporal CLI
		// dev server does (defaults 2000 / 9000).
		"frontend.persistenceMaxQPS": 10000,
		"history.persistenceMaxQPS":  45000,

		// Eager activity execution is off by default: with it, an activity
		// scheduled on the workflow's own task queue is handed back in the
		// workflow task completion response (no matching round trip).
		// Eager workflow start and update are on by default; pinned here so a
		// server default change does not silently slow voxflow down.
		"system.enableActivityEagerExecution":    true,
		"system.enableEagerWorkflowStart":        true,
		"frontend.enableUpdateWorkflowExecution": true,

		// Visibility API rate limit per namespace (10/s by default): a list
		// over it is refused and the SDK retries it after >= 200 ms (measured
		// on temporaltest: at 100/s, 4 clients listing in a loop got 134/s and
		// waited up to 1.4 s). One node serves ~1,000 small lists a second,
		// so put the limit beyond reach: the supervisor dashboard, the
		// designer's heat map and `voxflow calls list` share it.
		"frontend.namespaceRPS.visibility": 2000,

		// The history service caches each workflow's mutable state, closed
		// ones included, for up to an hour and 128,000 entries: in one
		// process at a steady 12 calls/s that is every call of the last
		// hour, and voxflow dev's heap grew by ~35 MiB a minute for the
		// hour (bench/soak). A call's state is read back within seconds:
		// 4,096 entries keep every live call warm. (Not the size-based
		// limit, history.cacheSizeBasedLimit: its accounting reads mutable
		// state unlocked, a data race the race detector reports.)
		"history.hostLevelCacheMaxSize": 4096,
	}
}

// staticDynamicConfig merges TunedDynamicConfig with overrides (overrides win)
// into a client the server can use.
func staticDynamicConfig(overrides map[string]any) dynamicconfig.StaticClient {
	values := TunedDynamicConfig()
	maps.Copy(values, overrides)
	sc := make(dynamicconfig.StaticClient, len(values))
	for k, v := range values {
		sc[dynamicconfig.MakeKey(k)] = v
	}
	return sc
}

// unknownDynamicConfigKeys returns the keys the server does not know (a typo
// would otherwise be silently ignored).
func unknownDynamicConfigKeys(values map[string]any) []string {
	var unknown []string
	for k := range values {
		var lr dynamicconfig.YamlLoader
		// An empty value list only looks the key up in the registry.
		lr.LoadValue(dynamicconfig.MakeKey(k), []byte("[]"))
		if len(lr.Warnings) > 0 || len(lr.Errors) > 0 {
			unknown = append(unknown, k)
		}
	}
	return unknown
}
