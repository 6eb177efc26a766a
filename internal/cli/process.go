package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/telemetry"
	"github.com/voxflow/voxflow/store"
)

// What the long-running commands (dev, engine, media, api) share.

// dialTemporal connects to the configured Temporal frontend, encrypting
// payloads with keys when they are configured.
func dialTemporal(t config.Temporal, keys config.Codec) (client.Client, error) {
	return dialTemporalContext(context.Background(), t, keys)
}

// dialTemporalContext is dialTemporal giving up when ctx ends: TLS, mTLS
// or an API key as configured, and the namespace checked.
func dialTemporalContext(ctx context.Context, t config.Temporal, keys config.Codec) (client.Client, error) {
	return platform.DialTemporal(ctx, t, keys, quietLogger())
}

// process is what a production command runs on: its logger, its traces,
// its Temporal client and its store.
type process struct {
	log         *slog.Logger
	c           client.Client
	dc          converter.DataConverter // c's (nil: payloads in clear)
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
	if p.dc, err = codec.Converter(cfg.Codec); err != nil {
		p.stopTracing()
		return nil, err
	}
	logPayloadKeys(p.log, cfg.Codec)
	if p.c, err = platform.DialTemporal(ctx, cfg.Temporal, cfg.Codec, p.log); err != nil {
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

// logPayloadKeys says at start whether this process encrypts payloads.
func logPayloadKeys(log *slog.Logger, keys config.Codec) {
	switch {
	case keys.KeyFile != "":
		log.Info("Temporal payloads encrypted (AES-256-GCM)", "key_file", keys.KeyFile)
	case keys.Keys != "":
		log.Info("Temporal payloads encrypted (AES-256-GCM)", "keys", "$VOXFLOW_CODEC_KEYS or --codec-keys")
	default:
		log.Warn("Temporal payloads are stored in clear: set --codec-key-file to encrypt call data")
	}
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
