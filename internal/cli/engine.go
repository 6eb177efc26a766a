package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

func newEngineCmd() *cobra.Command {
	var tf temporalFlags
	var storeDSN string
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Run the call engine worker against an external Temporal (production)",
		Long: `Runs CallWorkflow on the voxflow-engine task queue. With --store it also
runs the shared activities (HTTP, call records, subflow loading, picking
the least-loaded media worker for outbound calls) on the
voxflow-activities queue. Run as many replicas as you need.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			w, err := platform.StartEngine(c)
			if err != nil {
				return err
			}
			ws := platform.Workers{w}
			defer ws.Stop()
			if storeDSN != "" {
				s, err := store.Open(cmd.Context(), storeDSN)
				if err != nil {
					return err
				}
				defer s.Close()
				acts := &builtin.Activities{HTTP: builtin.NewHTTPCaller(), Flows: platform.StoreFlows{Store: s}, CDRs: s, Router: builtin.NoAgents{}, Workers: s}
				sw, err := platform.StartShared(c, acts)
				if err != nil {
					return err
				}
				ws = append(ws, sw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "engine worker running against %s (namespace %s)\n", tf.address, tf.namespace)
			<-cmd.Context().Done()
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&storeDSN, "store", "", "store DSN (postgres://... or sqlite:///path); enables the shared activities")
	return cmd
}
