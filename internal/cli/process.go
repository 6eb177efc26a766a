package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/store"
)

// What the long-running commands (dev, engine, media) share.

// dialTemporal connects to the configured Temporal frontend.
func dialTemporal(t config.Temporal) (client.Client, error) {
	return dialTemporalContext(context.Background(), t)
}

// dialTemporalContext is dialTemporal giving up when ctx ends.
func dialTemporalContext(ctx context.Context, t config.Temporal) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort: t.Address, Namespace: t.Namespace,
		Logger: sdklog.NewStructuredLogger(quietLogger()),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (is `voxflow dev` running? set --temporal): %w", t.Address, err)
	}
	return c, nil
}

// connect dials Temporal and opens the store of a production command.
func connect(ctx context.Context, cfg config.Config) (client.Client, *store.Store, error) {
	c, err := dialTemporal(cfg.Temporal)
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

// processLogger logs to stderr, at debug level with verbose.
func processLogger(cfg config.Config) *slog.Logger {
	level := slog.LevelInfo
	if cfg.Verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// serveAdmin serves /healthz and /metrics when admin_addr is set; nil
// otherwise (Admin.Close is nil-safe).
func serveAdmin(cfg config.Config, h platform.Health, log *slog.Logger, m ...prometheus.Collector) (*platform.Admin, error) {
	if cfg.AdminAddr == "" {
		return nil, nil
	}
	return platform.ServeAdmin(cfg.AdminAddr, h, log, m...)
}
