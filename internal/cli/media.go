package cli

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/sipmedia"
)

// mediaKeys are the settings `voxflow media` takes as flags.
var mediaKeys = append(config.TemporalKeys(),
	"store", "admin_addr", "verbose",
	"media.id", "media.sip", "media.tls_cert", "media.tls_key", "media.tls", "media.external_host",
	"media.rtp_ports", "media.record_dir", "media.prompt_dir", "media.vars", "media.drain_timeout",
	"media.trunk.uri", "media.trunk.user", "media.trunk.password", "media.from", "media.registrar", "media.realm",
	"ai.llm_url", "ai.llm_api", "ai.llm_api_version", "ai.llm_key_file", "ai.transcribe_model", "ai.tts_model", "ai.tts_voice",
)

// aiKeys are the model settings of the processes that run AI activities.
var aiKeys = []string{"ai.llm_url", "ai.llm_api", "ai.llm_api_version", "ai.llm_model", "ai.llm_timeout", "ai.llm_json_mode", "ai.llm_key_file"}

func newMediaCmd() *cobra.Command {
	var flags *config.Flags
	cmd := &cobra.Command{
		Use:   "media",
		Short: "Run a SIP media worker against an external Temporal (production)",
		Long: `Answers SIP calls on --sip (UDP and TCP, and TLS on --sip-tls with
--sip-tls-cert and --sip-tls-key), looks up the flow bound to the dialled number in the store,
starts a CallWorkflow for each call and serves its media activities
(prompts by espeak-ng, keys, menu phrases recognised by pocketsphinx,
recording, blind and bridged transfer, hangup) on the task queue
media-<id>. With --registrar (the default) agents' phones register here
with the accounts of 'voxflow agents', and a flow's transfer to agent:NAME
rings that phone. Run one per machine behind a SIP load balancer; on
SIGTERM it stops taking calls (503 with Retry-After, to OPTIONS probes too,
so Kamailio takes it out), lets live calls finish (--drain-timeout) and
exits; while Temporal or the store do not answer it refuses new calls the
same way. With --admin-addr it serves /healthz (ready while Temporal and
the store answer and it is not draining) and /metrics.

Outbound calls (media.Originate) go to a SIP URI directly, or, for a bare
number, through --trunk (digest credentials --trunk-user and
$VOXFLOW_TRUNK_PASSWORD). The worker reports its load to the store every
2 s, so voxflow.PickMediaWorker can send outbound calls to the
least-loaded worker.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.Load()
			if err != nil {
				return err
			}
			if err := cfg.Require("store", cfg.Store, "the media worker finds the flow of each dialled number there"); err != nil {
				return err
			}
			return runMedia(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	flags = config.Bind(cmd.Flags(), slices.Concat(mediaKeys, config.CodecKeys(), config.SIPGuardKeys(), []string{"retention.recording_days"}, config.TelemetryKeys())...)
	return cmd
}

func runMedia(ctx context.Context, cfg config.Config, out io.Writer) error {
	p, err := startProcess(ctx, cfg, "voxflow-media")
	if err != nil {
		return err
	}
	defer p.close()
	log, c, s := p.log, p.c, p.s
	m, err := sipmedia.Start(ctx, cfg.Media, sipmedia.Deps{Client: c, Store: s, Logger: log, AI: cfg.AI, Namespace: cfg.Temporal.Namespace})
	if err != nil {
		return err
	}
	defer platform.StartRetention(ctx, sipmedia.Retention(cfg, log))()
	admin, err := serveAdmin(cfg, platform.Health{Client: c, Store: s, Draining: m.Draining}, log, append(m.Collectors(), platform.RetentionCollectors()...)...)
	if err != nil {
		m.Stop(ctx)
		return err
	}
	defer admin.Close()
	tlsNote := ""
	if a := m.SIP.TLSAddr(); a != "" {
		tlsNote = ", TLS on " + a
	}
	fmt.Fprintf(out, "media worker %s: SIP on %s (UDP and TCP)%s, activities on %s, Temporal %s (namespace %s)%s\n",
		m.SIP.ID(), cfg.Media.SIPAddr, tlsNote, m.SIP.Queue(), cfg.Temporal.Address, cfg.Temporal.Namespace, adminNote(admin))
	<-ctx.Done()
	fmt.Fprintf(out, "draining: %d live calls\n", m.SIP.LiveCalls())
	dctx, cancel := context.WithTimeout(context.Background(), cfg.Media.DrainTimeout)
	defer cancel()
	m.Stop(dctx)
	return nil
}
