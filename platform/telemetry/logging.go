package telemetry

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/platform/config"
)

// NewLogger is a process's logger: text (key=value) or JSON lines on w,
// from level up. Every line about a call carries call_id and workflow_id,
// whoever logged it: voxflow's code names a call "call" or "call_id", the
// Temporal SDK's workflow and activity loggers "WorkflowID"; the handler
// renames the SDK's keys to snake_case and fills in the other ID
// (workflow_id is "call-" + call_id).
func NewLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == config.LogJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(CallHandler(h))
}

// CallHandler wraps h so that call log lines carry call_id and
// workflow_id, and the Temporal SDK's keys are snake_case.
func CallHandler(h slog.Handler) slog.Handler { return callHandler{next: h} }

// renamed are keys logged under another name than the one voxflow's logs
// use: the Temporal SDK's, and "call".
var renamed = map[string]string{
	"call":         "call_id",
	"WorkflowID":   "workflow_id",
	"RunID":        "run_id",
	"WorkflowType": "workflow_type",
	"ActivityID":   "activity_id",
	"ActivityType": "activity_type",
	"TaskQueue":    "task_queue",
	"Namespace":    "namespace",
	"Attempt":      "attempt",
	"WorkerID":     "worker_identity",
	"Error":        "error",
}

type callHandler struct {
	next slog.Handler
	// hasCall, hasWorkflow: the logger's own attributes carry them.
	hasCall, hasWorkflow bool
	// grouped: attributes go into a group from here, left as they are.
	grouped bool
}

func (h callHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h callHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if h.grouped {
		h.next = h.next.WithAttrs(as)
		return h
	}
	as, h.hasCall, h.hasWorkflow = normalize(as, h.hasCall, h.hasWorkflow)
	h.next = h.next.WithAttrs(as)
	return h
}

func (h callHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h.next, h.grouped = h.next.WithGroup(name), true
	return h
}

func (h callHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.grouped || r.NumAttrs() == 0 || !needsWork(r, h.hasCall, h.hasWorkflow) {
		return h.next.Handle(ctx, r)
	}
	as := make([]slog.Attr, 0, r.NumAttrs()+1)
	r.Attrs(func(a slog.Attr) bool { as = append(as, a); return true })
	as, _, _ = normalize(as, h.hasCall, h.hasWorkflow)
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(as...)
	return h.next.Handle(ctx, out)
}

// needsWork reports whether a record has a key to rename or an ID to fill in.
func needsWork(r slog.Record, hasCall, hasWorkflow bool) bool {
	work := false
	r.Attrs(func(a slog.Attr) bool {
		_, rename := renamed[a.Key]
		work = rename || (a.Key == "call_id" && !hasWorkflow) || (a.Key == "workflow_id" && !hasCall)
		return !work
	})
	return work
}

// normalize renames keys and adds workflow_id for a call_id, or call_id
// for a call's workflow_id, unless already there; it reports whether the
// IDs are there now.
func normalize(as []slog.Attr, hasCall, hasWorkflow bool) (_ []slog.Attr, _, _ bool) {
	var call, wf string
	for i, a := range as {
		if to, ok := renamed[a.Key]; ok {
			as[i].Key = to
		}
		switch as[i].Key {
		case "call_id":
			call, hasCall = as[i].Value.String(), true
		case "workflow_id":
			wf, hasWorkflow = as[i].Value.String(), true
		}
	}
	if call != "" && !hasWorkflow {
		as, hasWorkflow = append(as, slog.String("workflow_id", activities.WorkflowID(call))), true
	}
	if id, ok := strings.CutPrefix(wf, activities.WorkflowID("")); ok && id != "" && !hasCall {
		as, hasCall = append(as, slog.String("call_id", id)), true
	}
	return as, hasCall, hasWorkflow
}

// Level is the process's log level: debug with verbose, else info.
func Level(verbose bool) slog.Level {
	if verbose {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
