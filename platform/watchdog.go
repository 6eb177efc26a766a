package platform

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	workflowpb "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/activities/records"
)

// WatchdogEvery is how often the watchdog reads the media worker registry.
const WatchdogEvery = time.Second

// MediaRegistry is the media worker registry the watchdog reads (the
// store fits).
type MediaRegistry interface {
	SilentMediaWorkers(ctx context.Context, silentFor time.Duration) ([]records.MediaWorker, error)
	ClaimSilentMediaWorker(ctx context.Context, w records.MediaWorker) (bool, error)
}

// MediaWatchdog is how calls learn that the media worker holding them
// died: media workers report to the registry every 2 s, and a worker
// silent for builtin.MediaWorkerFreshness (three missed reports) is
// claimed by one watchdog, which signals media-lost to each running call
// on its queue; each call then takes its recovery path (a callback
// through a live worker). One registry row per worker replaces a
// heartbeat per call. Every engine process runs one.
type MediaWatchdog struct {
	Client   client.Client
	Registry MediaRegistry
	Logger   *slog.Logger
}

// Run checks the registry every WatchdogEvery until ctx ends.
func (w *MediaWatchdog) Run(ctx context.Context) {
	t := time.NewTicker(WatchdogEvery)
	defer t.Stop()
	for {
		if _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Warn("media watchdog", "error", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Sweep claims the silent workers and tells their calls; it returns how
// many calls it told.
func (w *MediaWatchdog) Sweep(ctx context.Context) (int, error) {
	silent, err := w.Registry.SilentMediaWorkers(ctx, builtin.MediaWorkerFreshness)
	if err != nil {
		return 0, err
	}
	told := 0
	for _, mw := range silent {
		claimed, err := w.Registry.ClaimSilentMediaWorker(ctx, mw)
		if err != nil || !claimed {
			continue
		}
		n, err := TellLostCalls(ctx, w.Client, mw.Queue)
		told += n
		w.Logger.Warn("media worker stopped reporting: its calls are told to recover",
			"worker", mw.ID, "last_seen", mw.SeenAt, "calls", n, "error", err)
		if err != nil {
			return told, err
		}
	}
	return told, nil
}

// TellLostCalls signals media-lost to every running call whose media is on
// queue, and returns how many it told. A media worker starting under an ID
// calls it for its own queue first: calls still running there were held
// by the process before it, which is gone.
func TellLostCalls(ctx context.Context, c client.Client, queue string) (int, error) {
	if strings.ContainsAny(queue, `'"\`) {
		return 0, fmt.Errorf("tell calls on %q: a queue name with quotes cannot be queried", queue)
	}
	query := fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running'", activities.AttrMediaQueue, queue)
	told := 0
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowpb.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return told, fmt.Errorf("list calls on %s: %w", queue, err)
		}
		for _, e := range page.Executions {
			id := e.GetExecution().GetWorkflowId()
			if err := c.SignalWorkflow(ctx, id, "", activities.SignalMediaLost, activities.MediaLost{Queue: queue}); err == nil {
				told++
			}
		}
		if token = page.NextPageToken; len(token) == 0 {
			return told, nil
		}
	}
}
