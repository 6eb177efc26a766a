package cli

import (
	"context"
	"time"

	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/telemetry"
)

// tracingFlushTimeout bounds the flush of the last spans at exit.
const tracingFlushTimeout = 5 * time.Second

// startTracing starts the process's traces as configured (off by
// default) before it dials Temporal, so its client and workers trace;
// the returned function flushes them at exit.
func startTracing(ctx context.Context, cfg config.Config, service string) (func(), error) {
	stop, err := telemetry.StartTracing(ctx, cfg.Telemetry, service)
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
		defer cancel()
		_ = stop(sctx)
	}, nil
}
