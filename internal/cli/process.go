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

// What the long-running commands (dev, engine, media, api) share.

// dialTemporal connects to the configured Temporal frontend.
func dialTemporal(t config.Temporal) (client.Client, error) {
	return dialTemporalContext(context.Background(), t)
}

// dialTemporalContext is dialTemporal giving up when ctx ends: TLS, mTLS
// or an API key as configured, and the namespace checked.
func dialTemporalContext(ctx context.Context, t config.Temporal) (client.Client, error) {
	return platform.DialTemporal(ctx, t, quietLogger())
}

// process is what a production command runs on: its logger, its traces,
// its Temporal client and its store.
type process struct {
	log         *slog.Logger
	c           client.Client
	s           *store.Store
	stopTracing func()
}

// startProcess starts the command's traces (before the dial, so the
// client traces too), dials Temporal and opens the store. The client logs
// (the SDK's own lines, and activities' and workflows') go to the
// process's log.
func startProcess(ctx context.Context, cfg config.Config, service string) (*process, error) {
	p := &process{log: processLogger(cfg)}
	var err error
	if p.stopTracing, err = startTracing(ctx, cfg, service); err != nil {
		return nil, err
	}
	if p.c, err = platform.DialTemporal(ctx, cfg.Temporal, p.log); err != nil {
		p.stopTracing()
		return nil, err
	}
	if p.s, err = store.Open(ctx, cfg.Store); err != nil {
		p.c.Close()
		p.stopTracing()
		return nil, err
	}
	return p, nil
}

// close releases the store, the client and the traces (flushing them).
func (p *process) close() {
	_ = p.s.Close()
	p.c.Close()
	p.stopTracing()
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
