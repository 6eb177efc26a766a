package cli

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
)

// What the long-running commands (dev, engine, media) share.

// dialTemporal connects to the configured Temporal frontend.
func dialTemporal(t config.Temporal) (client.Client, error) {
	c, err := client.Dial(client.Options{
		HostPort: t.Address, Namespace: t.Namespace,
		Logger: sdklog.NewStructuredLogger(quietLogger()),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (is `voxflow dev` running? set --temporal): %w", t.Address, err)
	}
	return c, nil
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
