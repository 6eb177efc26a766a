package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

func newMediaCmd() *cobra.Command {
	var (
		tf           temporalFlags
		cfg          sipworker.Config
		storeDSN     string
		rtpPorts     string
		vars         map[string]string
		drainTimeout time.Duration
		verbose      bool
		trunk        sipworker.Trunk
		reg          registrarFlags
	)
	cmd := &cobra.Command{
		Use:   "media",
		Short: "Run a SIP media worker against an external Temporal (production)",
		Long: `Answers SIP calls on --sip (UDP and TCP, and TLS on --tls with --tls-cert
and --tls-key), looks up the flow bound to the
dialled number in the store, starts a CallWorkflow for each call and serves
its media activities (prompts by espeak-ng, keys, menu phrases recognised by
pocketsphinx, recording, blind and bridged transfer, hangup) on the task
queue media-<id>. With --registrar (the default) agents' phones register
here with the accounts of 'voxflow agents', and a flow's transfer to
agent:NAME rings that phone. Run one per machine behind a SIP load balancer; on
SIGTERM it stops taking calls (503), lets live calls finish (--drain-timeout)
and exits.

Outbound calls (media.Originate) go to a SIP URI directly, or, for a bare
number, through --trunk (digest credentials --trunk-user and --trunk-password,
or $VOXFLOW_TRUNK_PASSWORD). The worker reports its load to the store every
2 s, so voxflow.PickMediaWorker can send outbound calls to the least-loaded
worker.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			if storeDSN == "" {
				return fmt.Errorf("--store is required: the media worker finds the flow of each dialled number there")
			}
			if rtpPorts != "" {
				lo, hi, ok := strings.Cut(rtpPorts, "-")
				start, err1 := strconv.Atoi(lo)
				end, err2 := strconv.Atoi(hi)
				if !ok || err1 != nil || err2 != nil {
					return fmt.Errorf("--rtp-ports %q: want START-END, e.g. 10000-20000", rtpPorts)
				}
				cfg.RTPPortStart, cfg.RTPPortEnd = start, end
			}
			if cfg.ID == "" {
				host, err := os.Hostname()
				if err != nil {
					return fmt.Errorf("--id not set and no hostname: %w", err)
				}
				cfg.ID = host
			}
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := store.Open(ctx, storeDSN)
			if err != nil {
				return err
			}
			defer s.Close()
			cfg.Temporal = c
			cfg.Numbers, cfg.Flows = s, platform.StoreFlows{Store: s}
			cfg.Registry = s
			if cfg.Registrar, err = reg.build(s, cfg.ID, cfg.Logger); err != nil {
				return err
			}
			if trunk.Password == "" {
				trunk.Password = os.Getenv("VOXFLOW_TRUNK_PASSWORD")
			}
			if trunk.URI != "" {
				cfg.Trunk = &trunk
			} else if trunk.Username != "" || trunk.Password != "" {
				return fmt.Errorf("--trunk-user/--trunk-password need --trunk")
			}
			cfg.StartCall = platform.SIPCallStarter(c)
			cfg.SignalHangup = platform.HangupSignaler(c)
			cfg.CallClosed = platform.CallClosedChecker(c)
			if len(vars) > 0 {
				cfg.CallVars = map[string]any{}
				for k, v := range vars {
					cfg.CallVars[k] = v
				}
			}
			w, err := sipworker.Start(ctx, cfg)
			if err != nil {
				return err
			}
			tlsNote := ""
			if w.TLSAddr() != "" {
				tlsNote = ", TLS on " + w.TLSAddr()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "media worker %s: SIP on %s (UDP and TCP)%s, activities on %s, Temporal %s (namespace %s)\n",
				cfg.ID, cfg.SIPAddr, tlsNote, w.Queue(), tf.address, tf.namespace)
			<-ctx.Done()
			fmt.Fprintf(cmd.OutOrStdout(), "draining: %d live calls\n", w.LiveCalls())
			dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			defer cancel()
			if err := w.Drain(dctx); err != nil {
				cfg.Logger.Warn("drain", "error", err)
			}
			return w.Close()
		},
	}
	tf.register(cmd)
	reg.register(cmd)
	f := cmd.Flags()
	f.StringVar(&storeDSN, "store", "", "store DSN (postgres://... or sqlite:///path) with the flows and number bindings")
	f.StringVar(&cfg.ID, "id", "", "worker ID; its task queue is media-<id> (default: the hostname)")
	f.StringVar(&cfg.SIPAddr, "sip", ":5060", "SIP listen address, UDP and TCP")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve SIP over TLS too (needs --tls-key)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	f.StringVar(&cfg.TLSAddr, "tls", "", "SIP over TLS listen address (default: the --sip port + 1, e.g. :5061)")
	f.StringVar(&cfg.ExternalHost, "external-host", "", "host or IP to put in Contact and SDP when behind NAT")
	f.StringVar(&rtpPorts, "rtp-ports", "", "RTP port range START-END (RTCP uses port+1; default: ephemeral)")
	f.StringVar(&cfg.RecordDir, "record-dir", "", "where recordings are written (default: $TMPDIR/voxflow-recordings)")
	f.StringVar(&cfg.PromptDir, "prompt-dir", "", "directory for relative audio prompt paths")
	f.StringToStringVar(&vars, "var", nil, "variable given to every call, e.g. --var crm_url=http://crm.local/api (repeatable)")
	f.DurationVar(&drainTimeout, "drain-timeout", 5*time.Minute, "how long live calls may run on after SIGTERM")
	f.StringVar(&trunk.URI, "trunk", "", "SIP trunk for outbound calls to bare numbers, e.g. sip:sip.example.net:5060;transport=tcp")
	f.StringVar(&trunk.Username, "trunk-user", "", "digest username for the trunk")
	f.StringVar(&trunk.Password, "trunk-password", "", "digest password for the trunk (default: $VOXFLOW_TRUNK_PASSWORD)")
	f.StringVar(&cfg.OriginateFrom, "from", "", "caller ID of outbound calls that give none (number or SIP URI)")
	f.BoolVar(&verbose, "verbose", false, "debug logging")
	return cmd
}
