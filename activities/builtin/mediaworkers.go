package builtin

import (
	"context"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// WorkerRegistry lists the live media workers (the store fits): those seen
// within freshWithin and not draining.
type WorkerRegistry interface {
	MediaWorkers(ctx context.Context, freshWithin time.Duration) ([]records.MediaWorker, error)
}

// MediaWorkerFreshness is how recently a media worker must have reported
// itself to be picked: three missed reports (workers report every 2 s)
// take a dead worker out.
const MediaWorkerFreshness = 6 * time.Second

// pickMediaWorker returns the fresh media worker with the fewest live calls,
// ties broken by ID.
func (a *Activities) pickMediaWorker(ctx context.Context) (records.MediaWorker, error) {
	ws, err := a.Workers.MediaWorkers(ctx, MediaWorkerFreshness)
	if err != nil {
		return records.MediaWorker{}, fmt.Errorf("pick media worker: %w", err)
	}
	return PickLeastLoaded(ws)
}

// PickLeastLoaded picks the worker with the fewest live calls (ties by ID),
// ignoring unavailable ones (negative LiveCalls). With none it returns a
// activities.NewNoMediaWorker error.
func PickLeastLoaded(ws []records.MediaWorker) (records.MediaWorker, error) {
	var best *records.MediaWorker
	for i := range ws {
		w := &ws[i]
		if w.LiveCalls < 0 || w.ID == "" {
			continue
		}
		if best == nil || w.LiveCalls < best.LiveCalls || (w.LiveCalls == best.LiveCalls && w.ID < best.ID) {
			best = w
		}
	}
	if best == nil {
		return records.MediaWorker{}, activities.NewNoMediaWorker(
			"no live media worker reported itself in the last " + MediaWorkerFreshness.String())
	}
	if best.Queue == "" {
		best.Queue = activities.MediaQueue(best.ID)
	}
	return *best, nil
}
