// Package builtin implements the non-media activities every voxflow
// deployment runs on the shared queue: HTTP requests of http nodes, call
// records, pinned subflow loading, the routing hand-off contract and the
// alerts the engine raises on live calls.
package builtin

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// FlowLoader returns the latest published version of a flow.
type FlowLoader interface {
	LoadPublished(ctx context.Context, name string) (activities.FlowSource, error)
}

// CDRSink stores call records. SaveCDR must be idempotent per call and run:
// Temporal may deliver an activity more than once.
type CDRSink interface {
	SaveCDR(ctx context.Context, rec records.CDR) error
}

// Router is the blocking queue hand-off of calls started before the router
// workflow (routing.Enqueue); NoAgents answers them.
type Router interface {
	Enqueue(ctx context.Context, in activities.EnqueueInput) (activities.EnqueueResult, error)
}

// Activities bundles the shared activities with their dependencies.
type Activities struct {
	HTTP   *HTTPCaller
	Flows  FlowLoader
	CDRs   CDRSink
	Router Router
	// Workers, when set, serves voxflow.PickMediaWorker (least-loaded
	// media worker for outbound calls).
	Workers WorkerRegistry
	// Queues, Routing and WrapUps serve the routing activities: queue
	// settings, the router workflow, and wrap-ups into call records.
	Queues    QueueDirectory
	Routing   RouterClient
	WrapUps   WrapUpSink
	Callbacks CallbackSink
	// Alerts, when set, serves voxflow.CallAlert: alerts the engine
	// raises on a live call, kept as call events.
	Alerts CallAlertSink
}

// Register adds the shared activities to a worker on activities.SharedQueue.
func (a *Activities) Register(w activities.Registrar) {
	w.RegisterActivityWithOptions(a.HTTP.Do, activity.RegisterOptions{Name: activities.ActHTTP})
	w.RegisterActivityWithOptions(a.enqueue, activity.RegisterOptions{Name: activities.ActEnqueue})
	w.RegisterActivityWithOptions(a.saveWrapUp, activity.RegisterOptions{Name: activities.ActSaveWrapUp})
	if a.Alerts != nil { // the engine schedules it on the shared queue, never as a local activity
		w.RegisterActivityWithOptions(a.callAlert, activity.RegisterOptions{Name: activities.ActCallAlert})
	}
	a.RegisterLocal(w)
}

// RegisterLocal adds the shared activities the engine runs as local
// activities (short store work: call records, flow loading, picking a
// media worker) to w, the engine worker. They stay registered on the
// shared queue too, for calls that began before they were local.
func (a *Activities) RegisterLocal(w activities.Registrar) {
	w.RegisterActivityWithOptions(a.saveCDR, activity.RegisterOptions{Name: activities.ActSaveCDR})
	w.RegisterActivityWithOptions(a.loadFlows, activity.RegisterOptions{Name: activities.ActLoadFlows})
	w.RegisterActivityWithOptions(a.joinQueue, activity.RegisterOptions{Name: activities.ActJoinQueue})
	w.RegisterActivityWithOptions(a.queuePosition, activity.RegisterOptions{Name: activities.ActQueuePosition})
	w.RegisterActivityWithOptions(a.saveCallback, activity.RegisterOptions{Name: activities.ActSaveCallback})
	if a.Workers != nil {
		w.RegisterActivityWithOptions(a.pickMediaWorker, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	}
}

func (a *Activities) saveCDR(ctx context.Context, rec records.CDR) error {
	if err := a.CDRs.SaveCDR(ctx, rec); err != nil {
		return fmt.Errorf("save call record %s: %w", rec.CallID, err)
	}
	return nil
}

func (a *Activities) loadFlows(ctx context.Context, in activities.LoadFlowsInput) ([]activities.FlowSource, error) {
	out := make([]activities.FlowSource, 0, len(in.Names))
	for _, name := range in.Names {
		src, err := a.Flows.LoadPublished(ctx, name)
		if err != nil {
			return nil, activities.NewBadInput(fmt.Errorf("load flow %q: %w", name, err))
		}
		out = append(out, src)
	}
	return out, nil
}

func (a *Activities) enqueue(ctx context.Context, in activities.EnqueueInput) (activities.EnqueueResult, error) {
	return a.Router.Enqueue(ctx, in)
}

// NoAgents answers routing.Enqueue, the hand-off of calls started before
// the router workflow existed: every such call takes its on_timeout path.
type NoAgents struct{}

// Enqueue reports that no agent is available.
func (NoAgents) Enqueue(ctx context.Context, in activities.EnqueueInput) (activities.EnqueueResult, error) {
	activity.GetLogger(ctx).Info("no routing layer: queue has no agents", "queue", in.Queue, "call", in.CallID)
	return activities.EnqueueResult{Outcome: activities.EnqueueTimeout}, nil
}
