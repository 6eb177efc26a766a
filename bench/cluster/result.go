package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// results is one benchmark run, as written to results.json.
type results struct {
	Started time.Time    `json:"started"`
	Ended   time.Time    `json:"ended"`
	Rates   []int        `json:"rates"`
	Secs    int          `json:"secs"`
	Idle    idleCPU      `json:"idle"`
	Steps   []stepResult `json:"steps"`
}

// stepResult is one rate's figures.
type stepResult struct {
	Rate       int           `json:"rate"`
	Calls      int           `json:"calls"`
	Window     time.Duration `json:"window_ns"` // first INVITE .. every record in, plus the settle
	LoadBefore string        `json:"load_before"`
	LoadAfter  string        `json:"load_after"`
	// Kamailio's dispatcher before and after: "duid flags calls" per worker
	// (calls left counted after the step would be a leak of its load).
	DispatcherBefore string `json:"dispatcher_before"`
	DispatcherAfter  string `json:"dispatcher_after"`

	Created, Succeeded, Failed    int
	Timeouts, Unexpected, Retrans int
	Setup                         [4]time.Duration `json:"setup_p50_p95_p99_max_ns"` // INVITE -> 200
	CallLength                    time.Duration    `json:"call_length_mean_ns"`      // SIPp, successful calls
	SippCPU                       time.Duration    `json:"sipp_cpu_ns"`

	CDRs     int              `json:"cdrs"`
	Outcomes map[string]int   `json:"outcomes"`
	Duration [2]time.Duration `json:"cdr_duration_p50_p99_ns"` // workflow start .. end
	Answered float64          `json:"answered_per_s"`          // first .. last record's start

	Machine time.Duration            `json:"machine_cpu_ns"`  // every process on the machine, the cluster's included
	CPU     map[string]time.Duration `json:"cpu_ns"`          // per process, raw
	CPUNet  map[string]time.Duration `json:"cpu_net_idle_ns"` // less the idle rate over the window
	Shards  map[int]int              `json:"new_workflows_per_shard"`
	Signals map[string]float64       `json:"signals"` // Temporal and SDK metrics, see signals()
}

// newStepResult computes a step's figures from its SIPp run, its
// records and the snapshots around it.
func newStepResult(rate, calls int, sp sippResult, recs []cdr, before, after snapshot, idle idleCPU) stepResult {
	st := stepResult{
		Rate: rate, Calls: calls, Window: after.cpu.at.Sub(before.cpu.at), LoadBefore: before.load, LoadAfter: after.load,
		DispatcherBefore: before.kam, DispatcherAfter: after.kam,
		Created: sp.created, Succeeded: sp.succeeded, Failed: sp.failed,
		Timeouts: sp.timeouts, Unexpected: sp.unexpected, Retrans: sp.retransmissions,
		Setup:      [4]time.Duration{percentile(sp.setup, 50), percentile(sp.setup, 95), percentile(sp.setup, 99), percentile(sp.setup, 100)},
		CallLength: sp.callLength, SippCPU: sp.cpu,
		CDRs: len(recs), Outcomes: map[string]int{},
		CPU: map[string]time.Duration{}, CPUNet: map[string]time.Duration{}, Shards: map[int]int{},
		Machine: after.machine - before.machine,
	}
	var durs []time.Duration
	var first, last time.Time
	for i, r := range recs {
		st.Outcomes[r.Outcome]++
		durs = append(durs, r.Duration)
		if i == 0 || r.StartedAt.Before(first) {
			first = r.StartedAt
		}
		if r.StartedAt.After(last) {
			last = r.StartedAt
		}
	}
	st.Duration = [2]time.Duration{percentile(durs, 50), percentile(durs, 99)}
	if span := last.Sub(first); len(recs) > 1 && span > 0 {
		st.Answered = float64(len(recs)-1) / span.Seconds()
	}
	for name, cpu := range after.cpu.cpu {
		d := cpu - before.cpu.cpu[name]
		st.CPU[name] = d
		st.CPUNet[name] = d - time.Duration(float64(idle.PerSec[name])*st.Window.Seconds())
	}
	st.CPU["sipp"], st.CPUNet["sipp"] = sp.cpu, sp.cpu // SIPp runs only during the step
	for shard, n := range after.shards {
		st.Shards[shard] = n - before.shards[shard]
	}
	st.Signals = signals(before.metrics, after.metrics)
	return st
}

// signals are the Temporal server's and the SDK's figures of a step, from
// the metrics' deltas: counts, and latencies in milliseconds (NaN when
// nothing was observed).
func signals(before, after map[string]promSample) map[string]float64 {
	d := map[string]promSample{}
	for name, a := range after {
		d[name] = delta(before[name], a)
	}
	hist, engines, media := d["temporal-history"], merged(d, "engine-"), merged(d, "media-")
	const ms = 1000
	out := map[string]float64{
		"history.workflow_tasks":                  hist.sum("service_requests", `operation="RespondWorkflowTaskCompleted"`),
		"history.activity_tasks":                  hist.sum("service_requests", `operation="RespondActivityTaskCompleted"`),
		"history.requests":                        hist.sum("service_requests"),
		"history.persistence_requests":            hist.sum("persistence_requests"),
		"history.persistence_ms":                  ms * hist.mean("persistence_latency"),
		"history.persistence_p99_ms":              ms * hist.quantile("persistence_latency", 0.99),
		"history.task_queue_ms":                   ms * hist.mean("task_latency_queue"),
		"engine.workflow_tasks":                   engines.sum("temporal_workflow_task_execution_latency_seconds_count"),
		"engine.wft_schedule_to_start_ms":         ms * engines.mean("temporal_workflow_task_schedule_to_start_latency_seconds"),
		"engine.wft_schedule_to_start_p99_ms":     ms * engines.quantile("temporal_workflow_task_schedule_to_start_latency_seconds", 0.99),
		"engine.wft_execution_ms":                 ms * engines.mean("temporal_workflow_task_execution_latency_seconds"),
		"media.start_workflow_ms":                 ms * media.mean("temporal_request_latency_seconds", `operation="StartWorkflowExecution"`),
		"media.activity_schedule_to_start_ms":     ms * media.mean("temporal_activity_schedule_to_start_latency_seconds"),
		"media.activity_schedule_to_start_p99_ms": ms * media.quantile("temporal_activity_schedule_to_start_latency_seconds", 0.99),
	}
	for name, p := range d {
		if strings.HasPrefix(name, "engine-") {
			out[name+".workflow_tasks"] = p.sum("temporal_workflow_task_execution_latency_seconds_count")
		}
	}
	for k, v := range out {
		if math.IsNaN(v) {
			delete(out, k) // nothing observed (and JSON has no NaN)
		}
	}
	return out
}

// merged adds the series of every source whose name starts with prefix.
func merged(d map[string]promSample, prefix string) promSample {
	out := promSample{}
	for name, p := range d {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for s, v := range p {
			out[s] += v
		}
	}
	return out
}

func (st stepResult) failedShare() float64 {
	if st.Created == 0 {
		return 1
	}
	return float64(st.Created-st.Succeeded) / float64(st.Created) // failed, or never ended
}

// summary is a one-line progress report.
func (st stepResult) summary() string {
	total := time.Duration(0)
	for name, d := range st.CPUNet {
		if name != "sipp" {
			total += d
		}
	}
	perCall := math.NaN()
	if st.Succeeded > 0 {
		perCall = float64(total.Milliseconds()) / float64(st.Succeeded)
	}
	return fmt.Sprintf("  %d/s: %d ok, %d failed, %d CDRs %v; setup p50/p99 %s/%s; CDR duration p50/p99 %s/%s; "+
		"cluster CPU %.1f ms/call (net of idle); load %s -> %s; dispatcher %q -> %q",
		st.Rate, st.Succeeded, st.Failed, st.CDRs, st.Outcomes, ms(st.Setup[0]), ms(st.Setup[2]), ms(st.Duration[0]), ms(st.Duration[1]),
		perCall, st.LoadBefore, st.LoadAfter, st.DispatcherBefore, st.DispatcherAfter)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// kindCPU sums a per-process CPU map by process kind.
func kindCPU(cpu map[string]time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, d := range cpu {
		out[kindOf(name)] += d
	}
	return out
}

// sortedShards lists shard numbers in order.
func sortedShards(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}
