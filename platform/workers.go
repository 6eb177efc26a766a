// Package platform is voxflow's composition root: it builds the Temporal
// workers of a process (the engine, the shared activities, media
// channels), launches calls and serves health and metrics. `voxflow dev`,
// `voxflow engine`, `voxflow media`, the simulator and the tests all wire
// through it; media channels plug in as activities.Channel, so this
// package links no SIP or WebRTC stack (platform/sipmedia builds the SIP
// worker).
package platform

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/flows/engine"
)

// ChannelHeartbeatThrottle bounds how long a cancellation (the caller hung
// up, an operator reset the call) takes to reach a running media activity:
// it arrives with a heartbeat response.
const ChannelHeartbeatThrottle = time.Second

// Parts are the Temporal workers one voxflow process runs.
type Parts struct {
	// Engine runs CallWorkflow on activities.EngineQueue.
	Engine bool
	// Shared runs the shared activities on activities.SharedQueue (nil: not here).
	Shared *builtin.Activities
	// Channels run their media activities, each on its own queue.
	Channels []activities.Channel
}

// Workers is a set of started Temporal workers, stopped together.
type Workers []worker.Worker

// Stop stops every worker.
func (ws Workers) Stop() {
	for _, w := range ws {
		w.Stop()
	}
}

// StartWorkers starts the workers of p on c. If one fails to start, those
// already started are stopped.
func StartWorkers(c client.Client, p Parts) (Workers, error) {
	var ws Workers
	start := func(queue, what string, opts worker.Options, register func(worker.Worker)) error {
		w := worker.New(c, queue, opts)
		register(w)
		if err := w.Start(); err != nil {
			return fmt.Errorf("start %s worker on %s: %w", what, queue, err)
		}
		ws = append(ws, w)
		return nil
	}
	var err error
	if p.Engine {
		err = start(activities.EngineQueue, "engine", worker.Options{}, func(w worker.Worker) { engine.Register(w) })
	}
	if err == nil && p.Shared != nil {
		err = start(activities.SharedQueue, "shared activity", worker.Options{}, func(w worker.Worker) { p.Shared.Register(w) })
	}
	for _, ch := range p.Channels {
		if err != nil {
			break
		}
		err = start(ch.Queue(), "media channel", worker.Options{MaxHeartbeatThrottleInterval: ChannelHeartbeatThrottle},
			func(w worker.Worker) { activities.RegisterChannel(w, ch) })
	}
	if err != nil {
		ws.Stop()
		return nil, err
	}
	if len(ws) == 0 {
		return nil, errors.New("start workers: no part to run")
	}
	return ws, nil
}
