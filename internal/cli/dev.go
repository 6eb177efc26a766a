package cli

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/platform/devstack"
)

func newDevCmd() *cobra.Command {
	var cfg devstack.DevConfig
	var verbose bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole platform in one process on embedded defaults",
		Long: `Runs an embedded Temporal server (SQLite file under --data-dir, so calls
survive a restart), the store, the engine and activity workers, the HTTP
API (health, metrics, demo CRM) and publishes the example flows.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			cfg.Out = cmd.OutOrStdout()
			d, err := devstack.StartDev(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.OutOrStdout(), "shutting down")
			d.Stop()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "./voxflow-data", "where the store and Temporal keep their SQLite files")
	f.IntVar(&cfg.TemporalPort, "temporal-port", 7233, "embedded Temporal frontend port (on 127.0.0.1)")
	f.StringVar(&cfg.HTTPAddr, "http", ":8080", "HTTP listen address (API, health, metrics, demo CRM)")
	f.StringVar(&cfg.SIPAddr, "sip", ":5060", "SIP listen address, UDP and TCP (used by the media worker)")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve SIP over TLS too (needs --tls-key)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	f.StringVar(&cfg.TLSAddr, "tls", "", "SIP over TLS listen address (default: the --sip port + 1, e.g. :5061)")
	f.StringVar(&cfg.Namespace, "namespace", "default", "Temporal namespace")
	f.StringVar(&cfg.Realm, "realm", "voxflow", "SIP digest realm agents' phones register with (agents must be added with the same --realm)")
	f.BoolVar(&verbose, "verbose", false, "debug logging")
	return cmd
}
