// Package routingload benchmarks the router workflow (routing/router) on
// the embedded Temporal server (devtemporaltest: one history shard,
// voxflow's tuned dynamic config), driven through platform.Router as the
// API and the call engine drive it:
//
//   - BenchmarkAssignmentLatency: 1,000 waiting calls and 200 agents on
//     break; an agent becomes available (platform.Router.SetAgent returns)
//     -> the waiting call's workflow receives the router's routing.offer
//     signal. One agent at a time and in bursts.
//   - BenchmarkEnqueue: joins (platform.Router.Join) into a router already
//     holding 1,000 waiting calls, from 8 and 32 concurrent joiners:
//     joins/s, join latency, history events per join, continue-as-new.
//
// The calls are FakeCall workflows (harness_test.go), not the call engine:
// a FakeCall waits for its offer, stamps the moment its workflow code sees
// it, and reports answered and ended back to the router as a call does.
// Figures and commands: bench/README.md, section "Routing: assignment
// latency and enqueue throughput".
package routingload
