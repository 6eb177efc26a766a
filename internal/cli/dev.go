package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

func newDevCmd() *cobra.Command {
	var flags *config.Flags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole platform in one process on embedded defaults",
		Long: `Runs an embedded Temporal server (SQLite file under --data-dir, so calls
survive a restart), the store, the engine and activity workers, a SIP
media worker, the HTTP API, designer and console (with /healthz, /metrics
and a demo CRM) and publishes the example flows.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.Load()
			if err != nil {
				return err
			}
			stopTracing, err := startTracing(cmd.Context(), cfg, "voxflow-dev")
			if err != nil {
				return err
			}
			defer stopTracing()
			d, err := devstack.StartDev(cmd.Context(), cfg, devstack.Options{Logger: processLogger(cfg), Out: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.OutOrStdout(), "shutting down")
			d.Stop()
			return nil
		},
	}
	flags = config.Bind(cmd.Flags(), append([]string{"dev.data_dir", "dev.temporal_port", "dev.http", "temporal.namespace",
		"media.sip", "media.tls_cert", "media.tls_key", "media.tls", "media.realm", "media.trunk.uri", "media.trunk.user",
		"media.trunk.password", "verbose",
		"ai.transcribe_model", "ai.tts_model", "ai.tts_voice"}, slices.Concat(aiKeys, config.CodecKeys(), config.SIPGuardKeys(),
		config.APISecurityKeys(), config.RetentionKeys(), config.TelemetryKeys())...)...)
	return cmd
}
