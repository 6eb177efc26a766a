package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// printReport writes the run's tables in Markdown, as bench/README.md
// quotes them.
func printReport(w io.Writer, res results) {
	fmt.Fprintf(w, "\nLocal cluster benchmark, %s .. %s UTC, %d s per rate\n\n",
		res.Started.Format("2006-01-02 15:04:05"), res.Ended.Format("15:04:05"), res.Secs)
	printCalls(w, res.Steps)
	printCPU(w, res.Idle, res.Steps)
	printTemporal(w, res.Steps)
}

func printCalls(w io.Writer, steps []stepResult) {
	row(w, "offered calls/s", "answered/s", "SIPp calls ok / failed", "CDRs completed / all",
		"INVITE -> 200 p50 / p95 / p99 / max (ms)", "CDR duration p50 / p99 (ms)", "load average before -> after")
	row(w, "---", "---", "---", "---", "---", "---", "---")
	for _, st := range steps {
		fails := strconv.Itoa(st.Failed)
		if st.Failed > 0 {
			fails += fmt.Sprintf(" (timeouts %d, unexpected %d)", st.Timeouts, st.Unexpected)
		}
		row(w, strconv.Itoa(st.Rate), fmt.Sprintf("%.2f", st.Answered),
			fmt.Sprintf("%d / %s of %d", st.Succeeded, fails, st.Created),
			fmt.Sprintf("%d / %d", st.Outcomes["completed"], st.CDRs),
			msList(st.Setup[:]...), msList(st.Duration[:]...),
			st.LoadBefore+" -> "+st.LoadAfter)
	}
	fmt.Fprintln(w)
}

// printCPU writes CPU ms per completed call by process kind, net of the
// idle rate, and the cores the cluster used.
func printCPU(w io.Writer, idle idleCPU, steps []stepResult) {
	head := []string{"CPU ms per call (net of idle)", "idle (ms of CPU per s)"}
	sep := []string{"---", "---"}
	for _, st := range steps {
		head, sep = append(head, strconv.Itoa(st.Rate)+"/s"), append(sep, "---")
	}
	row(w, head...)
	row(w, sep...)
	idleKinds := kindCPU(idle.PerSec)
	perKind := make([]map[string]time.Duration, len(steps))
	for i, st := range steps {
		perKind[i] = kindCPU(st.CPUNet)
	}
	for _, kind := range append(processKinds, "cluster (all but sipp)") {
		cells := []string{kind, fmt.Sprintf("%.1f", msOf(idleKinds[kind]))}
		if kind == "cluster (all but sipp)" {
			cells[1] = fmt.Sprintf("%.1f", msOf(sumBut(idleKinds, "sipp")))
		}
		for i, st := range steps {
			d := perKind[i][kind]
			if kind == "cluster (all but sipp)" {
				d = sumBut(perKind[i], "sipp")
			}
			cells = append(cells, perCall(d, st.Succeeded))
		}
		row(w, cells...)
	}
	cores := func(label string, of func(st stepResult) time.Duration) {
		cells := []string{label, ""}
		for _, st := range steps {
			cells = append(cells, fmt.Sprintf("%.2f", of(st).Seconds()/st.Window.Seconds()))
		}
		row(w, cells...)
	}
	cluster := func(st stepResult) time.Duration { return sumBut(kindCPU(st.CPU), "sipp") }
	cores("cores used by the cluster (raw, mean over the step)", cluster)
	cores("cores used by SIPp", func(st stepResult) time.Duration { return st.CPU["sipp"] })
	cores("cores used by everything else on the machine", func(st stepResult) time.Duration {
		return st.Machine - cluster(st) - st.CPU["sipp"]
	})
	fmt.Fprintln(w)
}

// printTemporal writes the server's and the SDK's figures per step.
func printTemporal(w io.Writer, steps []stepResult) {
	head, sep := []string{"Temporal"}, []string{"---"}
	for _, st := range steps {
		head, sep = append(head, strconv.Itoa(st.Rate)+"/s"), append(sep, "---")
	}
	row(w, head...)
	row(w, sep...)
	lines := []struct {
		name string
		cell func(st stepResult) string
	}{
		{"workflow tasks per call (history)", perCallSignal("history.workflow_tasks")},
		{"activity tasks per call (history)", perCallSignal("history.activity_tasks")},
		{"workflow tasks/s, all 4 shards", func(st stepResult) string {
			return fmt.Sprintf("%.0f", st.Signals["history.workflow_tasks"]/float64(max(st.Succeeded, 1))*st.Answered)
		}},
		{"new call workflows per shard", shardCells},
		{"history persistence requests per call", perCallSignal("history.persistence_requests")},
		{"history persistence latency mean / p99 (ms)", signalPair("history.persistence_ms", "history.persistence_p99_ms")},
		{"history task queue latency mean (ms)", signalPair("history.task_queue_ms", "")},
		{"engines: workflow task schedule-to-start mean / p99 (ms)", signalPair("engine.wft_schedule_to_start_ms", "engine.wft_schedule_to_start_p99_ms")},
		{"engines: workflow task execution mean (ms)", signalPair("engine.wft_execution_ms", "")},
		{"engine-1 / engine-2 workflow tasks", signalPair("engine-1.workflow_tasks", "engine-2.workflow_tasks")},
		{"media: StartWorkflowExecution mean (ms)", signalPair("media.start_workflow_ms", "")},
		{"media: activity schedule-to-start mean / p99 (ms)", signalPair("media.activity_schedule_to_start_ms", "media.activity_schedule_to_start_p99_ms")},
	}
	for _, l := range lines {
		cells := []string{l.name}
		for _, st := range steps {
			cells = append(cells, l.cell(st))
		}
		row(w, cells...)
	}
	fmt.Fprintln(w)
}

func perCallSignal(name string) func(stepResult) string {
	return func(st stepResult) string {
		v, ok := st.Signals[name]
		if !ok || st.Succeeded == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", v/float64(st.Succeeded))
	}
}

func signalPair(a, b string) func(stepResult) string {
	return func(st stepResult) string {
		out := signalCell(st, a)
		if b != "" {
			out += " / " + signalCell(st, b)
		}
		return out
	}
}

func signalCell(st stepResult, name string) string {
	v, ok := st.Signals[name]
	if !ok {
		return "-"
	}
	if v == math.Trunc(v) && v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func shardCells(st stepResult) string {
	var parts []string
	for _, s := range sortedShards(st.Shards) {
		parts = append(parts, strconv.Itoa(st.Shards[s]))
	}
	return strings.Join(parts, " / ")
}

func row(w io.Writer, cells ...string) { fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |") }

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msList(ds ...time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.0f", msOf(d))
	}
	return strings.Join(parts, " / ")
}

func perCall(d time.Duration, calls int) string {
	if calls == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", msOf(d)/float64(calls))
}

func sumBut(m map[string]time.Duration, except string) time.Duration {
	var total time.Duration
	for k, d := range m {
		if k != except {
			total += d
		}
	}
	return total
}
