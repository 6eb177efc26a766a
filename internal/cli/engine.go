package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
)

func newEngineCmd() *cobra.Command {
	var flags *config.Flags
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Run the call engine worker against an external Temporal (production)",
		Long: `Runs CallWorkflow on the voxflow-engine task queue, with call records,
flow loading and picking the least-loaded media worker as local activities
on the store (--store), and the shared activities (HTTP, custom activity
hand-off, routing) on the voxflow-activities queue. Run as many replicas
as you need. With --admin-addr it serves /healthz (ready while Temporal and
the store answer) and /metrics.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.Load()
			if err != nil {
				return err
			}
			if err := cfg.Require("store", cfg.Store, "the engine saves call records and loads flows there"); err != nil {
				return err
			}
			return runEngine(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	flags = config.Bind(cmd.Flags(), slices.Concat(config.TemporalKeys(), config.CodecKeys(), []string{"store", "admin_addr", "verbose", "engine.compat"}, aiKeys, config.RetentionKeys(), config.TelemetryKeys())...)
	return cmd
}

func runEngine(ctx context.Context, cfg config.Config, out io.Writer) error {
	p, err := startProcess(ctx, cfg, "voxflow-engine")
	if err != nil {
		return err
	}
	defer p.close()
	log, c, s := p.log, p.c, p.s
	ai, err := platform.NewAI(cfg.AI, log.With("component", "ai"))
	if err != nil {
		return err
	}
	vars := make(map[string]any, len(cfg.Media.Vars))
	for k, v := range cfg.Media.Vars {
		vars[k] = v
	}
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Compat: cfg.EngineCompat, Shared: platform.SharedActivities(s), AI: ai,
		Campaigns: platform.CampaignActivities(c, s, vars), Watchdog: s, Logger: log})
	if err != nil {
		return err
	}
	defer platform.StartRetention(ctx, &platform.RetentionSweeper{Store: s, CDRDays: cfg.Retention.CDRDays, Logger: log.With("component", "retention")})()
	var draining atomic.Bool
	admin, err := serveAdmin(cfg, platform.Health{Client: c, Store: s, Draining: draining.Load}, log, append(platform.AICollectors(ai), platform.RetentionCollectors()...)...)
	if err != nil {
		ws.Stop()
		return err
	}
	defer admin.Close()
	fmt.Fprintf(out, "engine worker running against %s (namespace %s)%s\n", cfg.Temporal.Address, cfg.Temporal.Namespace, adminNote(admin))
	<-ctx.Done()
	// Drain: unready first, then stop polling and let running activities
	// finish; calls' workflow tasks move to the other engines.
	draining.Store(true)
	fmt.Fprintln(out, "draining: no new tasks; finishing running activities")
	ws.Stop()
	return nil
}

// adminNote says where /healthz and /metrics are served, if anywhere.
func adminNote(a *platform.Admin) string {
	if a == nil {
		return ""
	}
	return fmt.Sprintf("; /healthz and /metrics on http://%s", a.Addr())
}
