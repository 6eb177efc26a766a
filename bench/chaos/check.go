package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	workflowpb "go.temporal.io/api/workflowservice/v1"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// report is the run's result; Problems lists every failed check.
type report struct {
	Target        string         `json:"target"`
	Seed          int64          `json:"seed"`
	Duration      string         `json:"duration"`
	Rate          float64        `json:"rate"`
	CallsPlaced   int            `json:"calls_placed"`
	CallsAnswered int            `json:"calls_answered"`
	Callbacks     int            `json:"callbacks"`
	Kills         []kill         `json:"kills"`
	KillsPerKind  map[string]int `json:"kills_per_kind"`
	Outcomes      map[string]int `json:"outcomes"`
	// RecoverySeconds per kind: kill -> restarted process ready; kill ->
	// the first call placed after the kill answered.
	ReadySeconds    map[string][]float64 `json:"ready_seconds"`
	NewCallSeconds  map[string][]float64 `json:"new_call_seconds"`
	CallbackSeconds []float64            `json:"callback_seconds"` // media kill -> callback INVITE
	CallbackP50     float64              `json:"callback_p50"`
	CallbackP99     float64              `json:"callback_p99"`
	StillRunning    []string             `json:"still_running,omitempty"`
	Problems        []string             `json:"problems,omitempty"`
}

// mediaKinds are the kill kinds that take calls' media with them.
var mediaKinds = map[string]bool{"dev": true, "media": true}

// waitCallsEnded polls visibility until no CallWorkflow runs or grace
// passes, and returns the IDs still running.
func waitCallsEnded(ctx context.Context, t target, grace time.Duration) []string {
	c, err := t.temporal()
	if err != nil {
		return []string{"(visibility: " + err.Error() + ")"}
	}
	defer c.Close()
	deadline := time.Now().Add(grace)
	for {
		var ids []string
		resp, err := c.ListWorkflow(ctx, &workflowpb.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = 'CallWorkflow' AND ExecutionStatus = 'Running'"})
		if err == nil {
			for _, e := range resp.Executions {
				ids = append(ids, e.GetExecution().GetWorkflowId())
			}
		}
		if (err == nil && len(ids) == 0) || time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				ids = append(ids, "(visibility: "+err.Error()+")")
			}
			return ids
		}
		time.Sleep(2 * time.Second)
	}
}

// check compares SIPp's view of every call with the CDRs.
func check(ctx context.Context, c config, t target, started time.Time, calls int, kills []kill, running []string) (*report, error) {
	msgs, err := readSIPMessages(filepath.Join(c.dir, "sipp.msg"))
	if err != nil {
		return nil, err
	}
	sv := viewSIP(msgs)
	st, err := store.Open(ctx, t.storeDSN())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	cdrs, err := allCDRs(ctx, st, started)
	if err != nil {
		return nil, err
	}
	rep := &report{Target: c.target, Seed: c.seed, Duration: c.duration.String(), Rate: c.rate, CallsPlaced: calls,
		CallsAnswered: len(sv.answered), Kills: kills, KillsPerKind: map[string]int{}, Outcomes: map[string]int{},
		ReadySeconds: map[string][]float64{}, NewCallSeconds: map[string][]float64{}, StillRunning: running}
	for _, id := range running {
		rep.problem("call still running after the grace period: %s", id)
	}
	rep.recovery(kills, sv)
	rep.checkCalls(sv, cdrs, kills)
	return rep, nil
}

func (r *report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// allCDRs pages through the CDRs of calls started after since.
func allCDRs(ctx context.Context, st *store.Store, since time.Time) ([]records.CDR, error) {
	var out []records.CDR
	q := store.CDRQuery{StartedAfter: since.Add(-time.Second), Limit: 1000}
	for {
		page, next, err := st.SearchCDRs(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("CDRs: %w", err)
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		q.PageToken = next
	}
}

// recovery fills the per-kind recovery times: kill -> ready, and kill ->
// the first call whose INVITE left after the kill being answered.
func (r *report) recovery(kills []kill, sv sipView) {
	for _, k := range kills {
		r.KillsPerKind[k.Kind]++
		if k.Err != "" {
			r.problem("kill %s at %s: %s", k.Victim, k.At.Format(time.TimeOnly), k.Err)
			continue
		}
		r.ReadySeconds[k.Kind] = append(r.ReadySeconds[k.Kind], k.Ready.Sub(k.At).Seconds())
		for _, a := range sv.answers {
			if a[0].After(k.At) {
				r.NewCallSeconds[k.Kind] = append(r.NewCallSeconds[k.Kind], a[1].Sub(k.At).Seconds())
				break
			}
		}
	}
}

// lastMediaKillBefore is the latest kill of a kind that takes media at
// or before at, if any.
func lastMediaKillBefore(kills []kill, at time.Time) (kill, bool) {
	for i := len(kills) - 1; i >= 0; i-- {
		if mediaKinds[kills[i].Kind] && !kills[i].At.After(at) {
			return kills[i], true
		}
	}
	return kill{}, false
}

// checkCalls: every answered call has exactly one CDR with a final
// outcome; a caller is called back at most once per kill; each callback's
// delay from the media kill before it is recorded.
func (r *report) checkCalls(sv sipView, cdrs []records.CDR, kills []kill) {
	byCaller := map[string][]records.CDR{}
	for _, rec := range cdrs {
		byCaller[rec.From] = append(byCaller[rec.From], rec)
	}
	final := []string{records.OutcomeCompleted, records.OutcomeHungUp, records.OutcomeMediaLost}
	for caller := range sv.answered {
		recs := byCaller[caller]
		switch {
		case len(recs) == 0:
			r.problem("call from %s was answered but has no CDR", caller)
			continue
		case len(recs) > 1:
			r.problem("call from %s has %d CDRs", caller, len(recs))
		}
		r.Outcomes[recs[0].Outcome]++
		if !slices.Contains(final, recs[0].Outcome) {
			r.problem("call from %s ended %q", caller, recs[0].Outcome)
		}
	}
	for caller, cbs := range sv.callbacks {
		perKill := map[time.Time]int{}
		for _, at := range cbs {
			r.Callbacks++
			k, ok := lastMediaKillBefore(kills, at)
			if !ok {
				r.problem("callback to %s at %s follows no media kill", caller, at.Format(time.TimeOnly))
				continue
			}
			perKill[k.At]++
			r.CallbackSeconds = append(r.CallbackSeconds, at.Sub(k.At).Seconds())
		}
		for at, n := range perKill {
			if n > 1 {
				r.problem("%s was called back %d times after the kill at %s", caller, n, at.Format(time.TimeOnly))
			}
		}
	}
	sort.Float64s(r.CallbackSeconds)
	r.CallbackP50, r.CallbackP99 = quantile(r.CallbackSeconds, 0.5), quantile(r.CallbackSeconds, 0.99)
}

// quantile of sorted xs (nearest rank); 0 when empty.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(q*float64(len(xs))+0.999999) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "chaos %s seed %d: %s at %.1f calls/s: %d placed, %d answered, %d callbacks\n",
		r.Target, r.Seed, r.Duration, r.Rate, r.CallsPlaced, r.CallsAnswered, r.Callbacks)
	fmt.Fprintf(w, "kills per kind: %v\noutcomes: %v\n", r.KillsPerKind, r.Outcomes)
	for kind, xs := range r.ReadySeconds {
		fmt.Fprintf(w, "recovery %s: ready %s s; first new call answered %s s after the kill\n",
			kind, secs(xs), secs(r.NewCallSeconds[kind]))
	}
	fmt.Fprintf(w, "callback delay after a media kill: n=%d p50 %.1f s p99 %.1f s\n", len(r.CallbackSeconds), r.CallbackP50, r.CallbackP99)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "all checks passed")
	}
}

func secs(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.1f", x)
	}
	return "[" + strings.Join(s, " ") + "]"
}
