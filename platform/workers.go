// Package platform is voxflow's composition root: it builds the Temporal
// workers of a process (the engine, the shared activities, media
// channels), launches calls and serves health and metrics. `voxflow dev`,
// `voxflow engine`, `voxflow media`, the simulator and the tests all wire
// through it; media channels plug in as activities.Channel, so this
// package links no SIP or WebRTC stack (platform/sipmedia builds the SIP
// worker).
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/dialer/campaign"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/routing/router"
)

// WorkerStopTimeout bounds how long a stopping worker waits for its
// running activities; workflow tasks need no wait: another engine replays
// them from history.
const WorkerStopTimeout = 30 * time.Second

// ChannelHeartbeatThrottle bounds how long a cancellation takes to reach a
// running media activity of a call from before the engine's fast path
// (its activities heartbeat, and a cancellation arrives with a heartbeat
// response); fast-path activities do not heartbeat.
const ChannelHeartbeatThrottle = time.Second

// ChannelMaxCalls bounds the calls one media channel serves at once: every
// live call has a media activity running (a prompt, a collect, a bridge),
// and the SDK's default of 1,000 concurrent activities held the 1,001st
// call's prompt back until its schedule-to-start timeout.
const ChannelMaxCalls = 20_000

// Parts are the Temporal workers one voxflow process runs.
type Parts struct {
	// Engine runs CallWorkflow on activities.EngineQueue, with Shared's
	// store activities as its local activities (so it needs Shared).
	Engine bool
	// Compat caps the engine changes the engine records in calls during a
	// rolling upgrade (config engine.compat, engine.ParseCompat,
	// docs/upgrades.md); empty records all.
	Compat string
	// Shared runs the shared activities on activities.SharedQueue (nil: not here).
	Shared *builtin.Activities
	// AI serves the AI activities beside Shared (nil: OfflineAI).
	AI AIActivities
	// Campaigns serves the campaign workflow's activities beside Shared
	// (CampaignActivities; nil: campaigns do not dial from here).
	Campaigns *campaign.Activities
	// Channels run their media activities, each on its own queue.
	Channels []activities.Channel
	// Watchdog, with Engine, is the media worker registry a MediaWatchdog
	// reads (the store); nil runs none.
	Watchdog MediaRegistry
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// aiOrOffline is p.AI, or the offline AI activities.
func (p *Parts) aiOrOffline() AIActivities {
	if p.AI == nil {
		p.AI = OfflineAI(p.Logger)
	}
	return p.AI
}

// Workers are the started Temporal workers and watchdog of a process,
// stopped together.
type Workers struct {
	workers []worker.Worker
	stop    context.CancelFunc
	done    chan struct{}
}

// Stop stops the watchdog and every worker.
func (ws *Workers) Stop() {
	if ws.stop != nil {
		ws.stop()
		<-ws.done
	}
	for _, w := range ws.workers {
		w.Stop()
	}
}

// StartWorkers starts the workers of p on c. If one fails to start, those
// already started are stopped.
func StartWorkers(c client.Client, p Parts) (*Workers, error) {
	ws := &Workers{}
	start := func(queue, what string, opts worker.Options, register func(worker.Worker)) error {
		opts.BuildID = buildID()
		// On SIGTERM a worker stops polling and lets the activities it
		// runs finish (an HTTP look-up, a model turn) before it exits.
		opts.WorkerStopTimeout = WorkerStopTimeout
		w := worker.New(c, queue, opts)
		register(w)
		if err := w.Start(); err != nil {
			return fmt.Errorf("start %s worker on %s: %w", what, queue, err)
		}
		ws.workers = append(ws.workers, w)
		return nil
	}
	if p.Engine && p.Shared == nil {
		return nil, errors.New("start workers: the engine runs the shared store activities locally and needs them (a store)")
	}
	compat, err := engine.ParseCompat(p.Compat)
	if err != nil {
		return nil, fmt.Errorf("start workers: engine.compat: %w", err)
	}
	if p.Shared != nil && p.Shared.Routing == nil {
		p.Shared.Routing = Router{Client: c}
	}
	if p.Engine {
		// The engine worker polls workflow tasks only; call records, flow
		// loading and media worker picks run in it as local activities.
		err = start(activities.EngineQueue, "engine", worker.Options{LocalActivityWorkerOnly: true,
			Interceptors: []interceptor.WorkerInterceptor{&CallMetrics{}}}, func(w worker.Worker) {
			engine.RegisterWith(w, engine.Options{Compat: compat})
			w.RegisterWorkflowWithOptions(router.RouterWorkflow, workflow.RegisterOptions{Name: activities.RouterWorkflowName})
			w.RegisterWorkflowWithOptions(campaign.Workflow, workflow.RegisterOptions{Name: activities.CampaignWorkflowName})
			p.Shared.RegisterLocal(w)
			// A caller turn's AI activities are local activities.
			p.aiOrOffline().Register(w)
		})
	}
	if err == nil && p.Shared != nil {
		ai := p.aiOrOffline()
		err = start(activities.SharedQueue, "shared activity", worker.Options{}, func(w worker.Worker) {
			p.Shared.Register(w)
			ai.Register(w)
			if p.Campaigns != nil {
				p.Campaigns.Register(w)
			}
		})
	}
	for _, ch := range p.Channels {
		if err != nil {
			break
		}
		err = start(ch.Queue(), "media channel", worker.Options{
			MaxHeartbeatThrottleInterval:       ChannelHeartbeatThrottle,
			MaxConcurrentActivityExecutionSize: ChannelMaxCalls,
		}, func(w worker.Worker) { activities.RegisterChannel(w, ch) })
	}
	if err != nil {
		ws.Stop()
		return nil, err
	}
	if len(ws.workers) == 0 {
		return nil, errors.New("start workers: no part to run")
	}
	if p.Engine && p.Watchdog != nil {
		ws.startWatchdog(&MediaWatchdog{Client: c, Registry: p.Watchdog, Logger: orDefault(p.Logger).With("component", "watchdog")})
	}
	return ws, nil
}

// buildID names this binary to Temporal: its VCS revision, or its module
// version. Without one the SDK hashes the whole executable (about a
// hundred megabytes) for every worker it starts.
var buildID = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "voxflow"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return "voxflow@" + s.Value
		}
	}
	return "voxflow@" + bi.Main.Version
})

func (ws *Workers) startWatchdog(w *MediaWatchdog) {
	ctx, cancel := context.WithCancel(context.Background())
	ws.stop, ws.done = cancel, make(chan struct{})
	go func() {
		defer close(ws.done)
		w.Run(ctx)
	}()
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
