package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
)

func newCallsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "calls", Short: "Find, inspect, replay and reset calls"}
	cmd.AddCommand(newCallsListCmd(), newCallsShowCmd(), newCallsStuckCmd(), newCallsReplayCmd(), newCallsResetCmd(), newCallsOriginateCmd())
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newCallsListCmd() *cobra.Command {
	var (
		tf     temporalFlags
		f      ops.Filter
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List calls, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			calls, err := ops.List(cmd.Context(), c, f)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), calls)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "CALL\tFLOW\tVERSION\tNODE\tSTATUS\tSTARTED")
			for _, s := range calls {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", s.CallID, s.Flow, s.Version, s.Node, s.Status, s.StartedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&f.Flow, "flow", "", "only calls of this flow")
	cmd.Flags().StringVar(&f.Node, "node", "", "only calls whose current (last) node is this")
	cmd.Flags().BoolVar(&f.Running, "running", false, "only calls in progress")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "at most this many")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCallsShowCmd() *cobra.Command {
	var (
		tf     temporalFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show CALL_ID",
		Short: "Show a call's timeline: nodes with timings, inputs and variables",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := ops.Show(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			w := cmd.OutOrStdout()
			state := "in node " + st.Node
			if st.Ended {
				state = "ended: " + st.Outcome
			}
			fmt.Fprintf(w, "call %s  flow %s v%d  %s  (%d steps)\n", st.CallID, st.Flow, st.FlowVersion, state, st.Steps)
			tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tNODE\tTYPE\tTOOK\tEXIT\tINPUT\tERROR")
			for _, s := range st.Path {
				took := ""
				if !s.LeftAt.IsZero() {
					took = s.LeftAt.Sub(s.EnteredAt).Round(time.Millisecond).String()
				}
				node := s.Node
				if s.Flow != "" && s.Flow != st.Flow {
					node = s.Flow + "/" + s.Node
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.EnteredAt.Local().Format("15:04:05.000"), node, s.Type, took, s.Outcome, s.Input, s.Error)
			}
			_ = tw.Flush()
			keys := make([]string, 0, len(st.Vars))
			for k := range st.Vars {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Fprintln(w, "variables:")
			for _, k := range keys {
				b, _ := json.Marshal(st.Vars[k])
				fmt.Fprintf(w, "  %s = %s\n", k, b)
			}
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCallsStuckCmd() *cobra.Command {
	var (
		tf        temporalFlags
		olderThan time.Duration
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "stuck",
		Short: "Running calls sitting in one node too long, or whose activity keeps failing",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			stuck, err := ops.Stuck(cmd.Context(), c, olderThan, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), stuck)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "CALL\tFLOW\tNODE\tREASON")
			for _, s := range stuck {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.CallID, s.Flow, s.Node, s.Reason)
			}
			return tw.Flush()
		},
	}
	tf.register(cmd)
	cmd.Flags().DurationVar(&olderThan, "older-than", 2*time.Minute, "how long in one node counts as stuck")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCallsReplayCmd() *cobra.Command {
	var (
		tf    temporalFlags
		runID string
	)
	cmd := &cobra.Command{
		Use:   "replay CALL_ID",
		Short: "Replay a call's history against this binary's engine code",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			h, err := ops.History(cmd.Context(), c, args[0], runID)
			if err != nil {
				return err
			}
			dc, err := tf.converter()
			if err != nil {
				return err
			}
			if err := ops.Replay(h, dc); err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "call %s: NOT deterministic with this code (%d events)\n%v\n", args[0], len(h.Events), err)
				return ExitError{Code: 2}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s: deterministic (%d events replayed)\n", args[0], len(h.Events))
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&runID, "run", "", "run ID (default: the latest run)")
	return cmd
}

func newCallsResetCmd() *cobra.Command {
	var (
		tf     temporalFlags
		sf     storeFlag
		node   string
		reason string
	)
	cmd := &cobra.Command{
		Use:   "reset CALL_ID --to-node NODE",
		Short: "Reset a call to the point where it last entered NODE; it continues from there",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			run, err := ops.Reset(cmd.Context(), c, tf.namespace, args[0], node, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s reset to node %s (new run %s)\n", args[0], node, run)
			auditCLI(cmd.Context(), sf, cmd.ErrOrStderr(), "call.reset", args[0], map[string]any{"node": node, "run_id": run, "reason": reason})
			return nil
		},
	}
	tf.register(cmd)
	sf.register(cmd) // the audit log's store
	cmd.Flags().StringVar(&node, "to-node", "", "node to go back to (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the history)")
	_ = cmd.MarkFlagRequired("to-node")
	return cmd
}

func newCallsOriginateCmd() *cobra.Command {
	var (
		tf            temporalFlags
		flow          string
		to, from      string
		ring          time.Duration
		detectMachine bool
		vars          []string
	)
	cmd := &cobra.Command{
		Use:   "originate --flow FLOW --to DESTINATION",
		Short: "Place an outbound call that runs a published flow once answered",
		Long: `Starts a call to DESTINATION (a SIP URI, or a number sent through the media
worker's trunk) on the least-loaded media worker; when it is answered the
flow's latest published version runs. Prints the call ID.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			overrides, err := parseVars(vars)
			if err != nil {
				return err
			}
			c, err := tf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			id := platform.NewCallID()
			_, err = platform.StartCall(cmd.Context(), c, engine.CallInput{
				Call:     flows.CallInfo{ID: id, From: from, To: to, Channel: "sip", StartedAt: time.Now().UTC()},
				Flow:     activities.FlowSource{Name: flow},
				Vars:     overrides,
				Outbound: &engine.Outbound{To: to, From: from, RingTimeout: ring, DetectMachine: detectMachine},
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "call %s placed to %s (follow it with: voxflow calls show %s)\n", id, to, id)
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&flow, "flow", "", "published flow to run (required)")
	cmd.Flags().StringVar(&to, "to", "", "whom to call: sip:user@host:port or a number (required)")
	cmd.Flags().StringVar(&from, "from", "", "caller ID to present")
	cmd.Flags().DurationVar(&ring, "ring", 30*time.Second, "how long to ring")
	cmd.Flags().BoolVar(&detectMachine, "detect-machine", false, "listen to the callee's greeting first: the flow sees call.answered_by (human, machine or unknown)")
	cmd.Flags().StringArrayVar(&vars, "var", nil, "override a variable's initial value: name=value")
	_ = cmd.MarkFlagRequired("flow")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
