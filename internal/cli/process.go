package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/telemetry"
	"github.com/voxflow/voxflow/store"
)

// What the long-running commands (dev, engine, media) share.

// dialTemporal connects to the configured Temporal frontend.
func dialTemporal(t config.Temporal) (client.Client, error) {
	return dialTemporalContext(context.Background(), t)
}

// dialTemporalContext is dialTemporal giving up when ctx ends: TLS, mTLS
// or an API key as configured, and the namespace checked.
func dialTemporalContext(ctx context.Context, t config.Temporal) (client.Client, error) {
	return platform.DialTemporal(ctx, t, quietLogger())
}

// connect dials Temporal and opens the store of a production command.
// The client logs (the SDK's own lines, and activities' and workflows')
// go to the process's log.
func connect(ctx context.Context, cfg config.Config) (client.Client, *store.Store, error) {
	c, err := platform.DialTemporal(ctx, cfg.Temporal, processLogger(cfg))
	if err != nil {
		return nil, nil, err
	}
	s, err := store.Open(ctx, cfg.Store)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, s, nil
}

// processLogger logs to stderr as text or JSON (log_format), at debug
// level with verbose; call lines carry call_id and workflow_id.
func processLogger(cfg config.Config) *slog.Logger {
	return telemetry.NewLogger(os.Stderr, cfg.LogFormat, telemetry.Level(cfg.Verbose))
}

// serveAdmin serves /healthz and /metrics when admin_addr is set; nil
// otherwise (Admin.Close is nil-safe).
func serveAdmin(cfg config.Config, h platform.Health, log *slog.Logger, m ...prometheus.Collector) (*platform.Admin, error) {
	if cfg.AdminAddr == "" {
		return nil, nil
	}
	return platform.ServeAdmin(cfg.AdminAddr, h, log, m...)
}
