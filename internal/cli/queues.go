package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

func newQueuesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queues",
		Short: "Manage call queues: hold flow, waits, ring timeout, wrap-up, overflow",
		Long: `A flow's queue node puts a caller in a queue until an agent who serves it
(voxflow agents set NAME --queues ...) and has the skills the call needs is
free. The queue's settings say what the caller hears and for how long, how
long each agent rings and when the search widens (overflow).`,
	}
	cmd.AddCommand(newQueuesListCmd(), newQueuesShowCmd(), newQueuesPutCmd(), newQueuesDeleteCmd())
	return cmd
}

// overflowSyntax is how --overflow is written, for errors and help.
const overflowSyntax = "AFTER:skills=LIST, AFTER:clear or AFTER:queue=NAME, parts joined with '/' " +
	"(60s:skills=billing:5,english, 2m:clear/queue=sales)"

// parseOverflow reads one --overflow step.
func parseOverflow(v string) (store.QueueOverflow, error) {
	var o store.QueueOverflow
	bad := func(why string) error { return fmt.Errorf("--overflow %q: %s; write %s", v, why, overflowSyntax) }
	after, rest, ok := strings.Cut(v, ":")
	if !ok || rest == "" {
		return o, bad("no step after the wait")
	}
	d, err := time.ParseDuration(after)
	if err != nil || d <= 0 {
		return o, bad(fmt.Sprintf("%q is not a positive duration", after))
	}
	o.After = d
	for _, part := range strings.Split(rest, "/") {
		key, val, _ := strings.Cut(part, "=")
		switch {
		case part == "clear":
			o.ClearSkills = true
		case key == "skills" && val != "":
			if _, err := routing.ParseRequirements([]string{val}); err != nil {
				return o, fmt.Errorf("--overflow %q: %w", v, err)
			}
			o.Skills = strings.Split(val, ",")
		case key == "queue" && val != "":
			o.Queue = val
		default:
			return o, bad(fmt.Sprintf("unknown step %q", part))
		}
	}
	return o, nil
}

// formatOverflow writes a step as --overflow reads it.
func formatOverflow(o store.QueueOverflow) string {
	var parts []string
	if o.ClearSkills {
		parts = append(parts, "clear")
	}
	if len(o.Skills) > 0 {
		parts = append(parts, "skills="+strings.Join(o.Skills, ","))
	}
	if o.Queue != "" {
		parts = append(parts, "queue="+o.Queue)
	}
	return o.After.String() + ":" + strings.Join(parts, "/")
}

func formatOverflows(steps []store.QueueOverflow) string {
	var out []string
	for _, o := range steps {
		out = append(out, formatOverflow(o))
	}
	return orDash(strings.Join(out, " "))
}

func maxWaiting(n int) string {
	if n == 0 {
		return "no limit"
	}
	return strconv.Itoa(n)
}

func estimated(d time.Duration) string {
	if d < 0 {
		return "unknown (nobody staffs it)"
	}
	return d.Round(time.Second).String()
}

func newQueuesListCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List queues with their settings and, when Temporal answers within 2 seconds, live figures",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			qs, err := s.Queues(ctx)
			if err != nil {
				return err
			}
			if len(qs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no queues: add one with `voxflow queues put NAME`")
				return nil
			}
			board, why, live := liveBoard(ctx, &tf)
			if !live {
				fmt.Fprintf(cmd.ErrOrStderr(), "live figures: unknown (%s)\n", why)
			}
			return printQueues(cmd.OutOrStdout(), qs, board, live)
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	return cmd
}

func printQueues(w io.Writer, qs []store.Queue, b activities.Board, live bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "NAME\tHOLD FLOW\tMAX WAIT\tMAX WAITING\tRING\tWRAP-UP\tSL THRESHOLD\tOVERFLOW"
	if live {
		head += "\tWAITING\tLONGEST\tSTAFFED\tAVAILABLE\tSERVICE LEVEL\tEST. WAIT"
	}
	fmt.Fprintln(tw, head)
	for _, q := range qs {
		q = q.WithDefaults()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", q.Name, q.HoldFlow, q.MaxWait, maxWaiting(q.MaxWaiting),
			q.RingTimeout, q.WrapUp, q.SLThreshold, formatOverflows(q.Overflow))
		if live {
			v := designerapi.QueueOnBoard(b, q.Name, q.SLThreshold)
			fmt.Fprintf(tw, "\t%d\t%s\t%d\t%d\t%.0f%%\t%s", v.Waiting, v.LongestWait.Round(time.Second), v.Staffed, v.Available,
				100*v.ServiceLevel, estimated(v.EstimatedWait))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// printQueue writes a queue's settings, defaults in place.
func printQueue(w io.Writer, q store.Queue) {
	q = q.WithDefaults()
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "queue %s\n", q.Name)
	for _, kv := range [][2]string{
		{"hold flow", q.HoldFlow}, {"announce every", q.AnnounceEvery.String()}, {"max wait", q.MaxWait.String()},
		{"max waiting", maxWaiting(q.MaxWaiting)}, {"ring timeout", q.RingTimeout.String()}, {"wrap-up", q.WrapUp.String()},
		{"sl threshold", q.SLThreshold.String()}, {"overflow", formatOverflows(q.Overflow)},
	} {
		fmt.Fprintf(tw, "  %s:\t%s\n", kv[0], kv[1])
	}
	_ = tw.Flush()
}

// printLive writes what the router shows of a queue.
func printLive(w io.Writer, v activities.QueueView, window time.Duration) {
	fmt.Fprintf(w, "live (last %s):\n", window)
	fmt.Fprintf(w, "  waiting %d (longest %s), ringing an agent %d\n", v.Waiting, v.LongestWait.Round(time.Second), v.Offered)
	fmt.Fprintf(w, "  staffed %d, available %d\n", v.Staffed, v.Available)
	fmt.Fprintf(w, "  answered %d, abandoned %d, service level %.0f%% within %s\n", v.Answered, v.Abandoned, 100*v.ServiceLevel, v.SLThreshold)
	fmt.Fprintf(w, "  handle time %s, wait %s on average; estimated wait %s\n", v.AHT.Round(time.Second), v.AvgWait.Round(time.Second),
		estimated(v.EstimatedWait))
}

func newQueuesShowCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
	)
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a queue's settings and, when Temporal answers within 2 seconds, live figures",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			q, err := s.Queue(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no queue %q: `voxflow queues list` lists them", args[0])
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			printQueue(out, q)
			if b, why, live := liveBoard(ctx, &tf); live {
				printLive(out, designerapi.QueueOnBoard(b, q.Name, q.WithDefaults().SLThreshold), b.Window)
			} else {
				fmt.Fprintf(out, "live: unknown (%s)\n", why)
			}
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	return cmd
}

// queueFlags are a queue's settings on the command line.
type queueFlags struct {
	q        store.Queue
	overflow []string
}

// durations are the duration flags and where each goes.
func (f *queueFlags) durations() []struct {
	flag string
	d    *time.Duration
} {
	return []struct {
		flag string
		d    *time.Duration
	}{
		{"announce-every", &f.q.AnnounceEvery}, {"max-wait", &f.q.MaxWait}, {"ring-timeout", &f.q.RingTimeout},
		{"wrap-up", &f.q.WrapUp}, {"sl-threshold", &f.q.SLThreshold},
	}
}

func (f *queueFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.q.HoldFlow, "hold-flow", "", "the flow a waiting caller hears, cycle after cycle (default "+store.DefaultHoldFlow+")")
	help := map[string]string{
		"announce-every": "how often a caller hears position and wait",
		"max-wait":       "how long a caller waits before leaving with a timeout",
		"ring-timeout":   "how long one agent rings before the next is tried",
		"wrap-up":        "an agent's after-call time before the next call",
		"sl-threshold":   "calls answered within it count toward the service level",
	}
	defaults := store.Queue{}.WithDefaults()
	defs := map[string]time.Duration{"announce-every": defaults.AnnounceEvery, "max-wait": defaults.MaxWait,
		"ring-timeout": defaults.RingTimeout, "wrap-up": defaults.WrapUp, "sl-threshold": defaults.SLThreshold}
	for _, d := range f.durations() {
		fl.DurationVar(d.d, d.flag, 0, fmt.Sprintf("%s (default %s)", help[d.flag], defs[d.flag]))
	}
	fl.IntVar(&f.q.MaxWaiting, "max-waiting", 0, "callers waiting at most; more are turned away (0: no limit)")
	fl.StringArrayVar(&f.overflow, "overflow", nil, "an overflow step, repeatable, by increasing wait: "+overflowSyntax)
}

// queue is the queue the flags describe; errors name the flag.
func (f *queueFlags) queue(name string) (store.Queue, error) {
	q := f.q
	q.Name = name
	for _, d := range f.durations() {
		if *d.d < 0 {
			return q, fmt.Errorf("--%s %s: must not be negative", d.flag, *d.d)
		}
	}
	if q.MaxWaiting < 0 {
		return q, fmt.Errorf("--max-waiting %d: must not be negative (0: no limit)", q.MaxWaiting)
	}
	for _, v := range f.overflow {
		o, err := parseOverflow(v)
		if err != nil {
			return q, err
		}
		q.Overflow = append(q.Overflow, o)
	}
	return q, nil
}

func newQueuesPutCmd() *cobra.Command {
	var (
		sf storeFlag
		qf queueFlags
	)
	cmd := &cobra.Command{
		Use:   "put NAME [--hold-flow F] [--max-wait 10m] [--overflow 60s:skills=billing ...]",
		Short: "Create or replace a queue; settings not given take the defaults",
		Long: `Creates the queue NAME, or replaces all of its settings: a setting not given
takes its default, an existing queue's included. Calls that join from now on
get the new settings.

--overflow widens who may take a caller once the caller has waited AFTER:
  60s:skills=billing:3        require these skills instead (name or name:level)
  90s:clear                   require no skills at all
  120s:queue=sales            move the caller to queue sales (it must exist)
  2m:skills=english/queue=b   parts combine with '/'
Give one --overflow per step, by increasing wait.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := qf.queue(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			err = s.PutQueue(ctx, q)
			if err != nil && strings.Contains(err.Error(), "overflow[") {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--overflow: %w: create that queue first", err)
				}
				return fmt.Errorf("--overflow: %w", err)
			}
			if err != nil {
				return err
			}
			if q, err = s.Queue(ctx, q.Name); err != nil {
				return err
			}
			printQueue(cmd.OutOrStdout(), q)
			return nil
		},
	}
	sf.register(cmd)
	qf.register(cmd)
	return cmd
}

func newQueuesDeleteCmd() *cobra.Command {
	var sf storeFlag
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a queue (refused while another queue overflows to it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			err = s.DeleteQueue(cmd.Context(), args[0])
			switch {
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("no queue %q", args[0])
			case errors.Is(err, store.ErrInUse):
				return fmt.Errorf("%w: change that queue's --overflow first (voxflow queues put)", err)
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "queue %s deleted\n", args[0])
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}

// callbackStates are the states --state takes.
var callbackStates = []string{store.CallbackScheduled, store.CallbackWaiting, store.CallbackDialing,
	store.CallbackDone, store.CallbackFailed, store.CallbackCancelled}

func newCallbacksCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "callbacks", Short: "See the callbacks callers asked for instead of waiting in a queue"}
	cmd.AddCommand(newCallbacksListCmd(), newCallbacksScheduleCmd())
	return cmd
}

func newCallbacksListCmd() *cobra.Command {
	var (
		sf storeFlag
		q  store.CallbackQuery
	)
	cmd := &cobra.Command{
		Use:   "list [--state S] [--queue Q]",
		Short: "List callbacks, soonest due first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.State != "" && !slices.Contains(callbackStates, q.State) {
				return fmt.Errorf("--state %q: want one of %s", q.State, strings.Join(callbackStates, ", "))
			}
			if q.Limit < 1 || q.Limit > 1000 {
				return fmt.Errorf("--limit %d: want 1 to 1000", q.Limit)
			}
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			cbs, err := s.Callbacks(cmd.Context(), q)
			if err != nil {
				return err
			}
			if len(cbs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no callbacks")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tQUEUE\tNUMBER\tSTATE\tDUE\tATTEMPTS\tAGENT\tOUTCOME")
			for _, c := range cbs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", c.ID, c.Queue, c.Number, c.State,
					c.DueAt.Local().Format("2006-01-02 15:04"), c.Attempts, orDash(c.Agent), orDash(c.Outcome))
			}
			return tw.Flush()
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&q.State, "state", "", "only callbacks in this state: "+strings.Join(callbackStates, ", "))
	cmd.Flags().StringVar(&q.Queue, "queue", "", "only callbacks of this queue")
	cmd.Flags().IntVar(&q.Limit, "limit", 100, "at most this many (1 to 1000)")
	return cmd
}
