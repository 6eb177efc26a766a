package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/apiserver"
	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/telemetry"
)

// apiShutdownTimeout bounds how long `voxflow api` waits on SIGTERM for
// requests in flight; live streams (SSE, sockets) are cut after it and
// their browsers reconnect to another instance.
const apiShutdownTimeout = 10 * time.Second

func newAPICmd() *cobra.Command {
	var flags *config.Flags
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the designer API, designer, console and agent pages (production)",
		Long: `Serves the HTTP API (/api/v1, OpenAPI at /openapi.json), the flow designer,
the supervisor console and the agent pages on --http, with /healthz (ready
while Temporal and the store answer, 503 once draining) and /metrics on the
same address. It keeps no state of its own: users, sessions and API keys
are in the store (--store), live calls, queues and campaigns in Temporal, so
run as many as you like behind any HTTP load balancer. A simulated call
(the designer's "Try it") runs on the instance that started it: give the
load balancer cookie affinity, or route /api/v1/simulate to one instance.
On SIGTERM it turns unready, finishes the requests in flight and exits.
The first start on an empty store creates the admin user and prints its
password once.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.Load()
			if err != nil {
				return err
			}
			if err := cfg.Require("store", cfg.Store, "users, sessions, keys and flows are kept there"); err != nil {
				return err
			}
			return runAPI(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	flags = config.Bind(cmd.Flags(), slices.Concat(config.TemporalKeys(), config.CodecKeys(), []string{"store", "api.http", "api.secure_cookie", "verbose"}, config.APISecurityKeys(), config.TelemetryKeys())...)
	return cmd
}

func runAPI(ctx context.Context, cfg config.Config, out io.Writer) error {
	ln, err := net.Listen("tcp", cfg.API.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (--http): %w", cfg.API.HTTPAddr, err)
	}
	defer ln.Close()
	p, err := startProcess(ctx, cfg, "voxflow-api")
	if err != nil {
		return err
	}
	defer p.close()
	log, c, s := p.log, p.c, p.s
	// Simulated calls run on a text channel of this instance's own.
	sim := text.NewChannel(simChannelID(), platform.HangupSignaler(c))
	ws, err := platform.StartWorkers(c, platform.Parts{Channels: []activities.Channel{sim}, Logger: log})
	if err != nil {
		return err
	}
	defer ws.Stop()
	pc, err := codec.PayloadCodec(cfg.Codec)
	if err != nil {
		return err
	}
	var draining atomic.Bool
	srv, err := apiserver.New(ctx, apiserver.Deps{
		Client: c, DataConverter: p.dc, PayloadCodec: pc, Namespace: cfg.Temporal.Namespace, Store: s, Sim: sim, Logger: log,
		SecureCookie: cfg.API.SecureCookie, Health: platform.Health{Draining: draining.Load},
		TLSCert: cfg.API.TLSCert, TLSKey: cfg.API.TLSKey, Origins: config.List(cfg.API.Origins),
		Signin: designerapi.SigninLimits{Failures: cfg.API.SigninFailures, Lockout: cfg.API.SigninLockout},
		Collectors: []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "voxflow_text_sessions", Help: "Live text-channel (simulator/chat) sessions.",
		}, func() float64 { return float64(sim.Live()) })},
	})
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: telemetry.HTTPHandler(srv.Handler, "voxflow-api"), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(srv.Listener(ln)) }()
	fmt.Fprintf(out, "API, designer and console on "+srv.Scheme()+"://%s/ (Temporal %s, namespace %s; /healthz, /metrics)\n",
		platform.Advertised(ln.Addr()), cfg.Temporal.Address, cfg.Temporal.Namespace)
	if srv.FirstAdmin != "" {
		fmt.Fprintf(out, "First start: sign in as %s (it is not shown again)\n", srv.FirstAdmin)
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve HTTP on %s: %w", ln.Addr(), err)
	}
	return shutdownAPI(hs, &draining, log)
}

// shutdownAPI turns /healthz unready, then lets requests in flight finish.
func shutdownAPI(hs *http.Server, draining *atomic.Bool, log *slog.Logger) error {
	draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), apiShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down HTTP: %w", err)
	}
	_ = hs.Close()
	log.Info("api stopped")
	return nil
}

// simChannelID names this instance's simulator channel: unique per
// process, so two instances on one host never take each other's turns.
func simChannelID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "api"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "api-" + host + "-" + hex.EncodeToString(b) + "-sim"
}
