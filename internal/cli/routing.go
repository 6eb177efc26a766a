package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// liveTimeout bounds how long a listing waits for Temporal before it
// shows what the store has without live figures.
const liveTimeout = 2 * time.Second

// router dials Temporal and returns the router on it, and the function
// that closes the connection.
func (f *temporalFlags) router(ctx context.Context) (platform.Router, func(), error) {
	cfg, err := f.flags.Load()
	if err != nil {
		return platform.Router{}, nil, err
	}
	f.namespace = cfg.Temporal.Namespace
	c, err := dialTemporalContext(ctx, cfg.Temporal, cliCodec(cfg))
	if err != nil {
		return platform.Router{}, nil, err
	}
	return platform.Router{Client: c}, c.Close, nil
}

// address is the configured Temporal address, for messages.
func (f *temporalFlags) address() string {
	cfg, err := f.flags.Load()
	if err != nil {
		return "?"
	}
	return cfg.Temporal.Address
}

// liveRouter dials Temporal within liveTimeout. When it cannot, ok is
// false and why says so in a few words.
func liveRouter(ctx context.Context, tf *temporalFlags) (r platform.Router, closeRouter func(), why string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	r, closeRouter, err := tf.router(ctx)
	if err != nil {
		return r, nil, fmt.Sprintf("Temporal at %s not reachable", tf.address()), false
	}
	return r, closeRouter, "", true
}

// boardWithin asks the router for its board within liveTimeout.
func boardWithin(ctx context.Context, r platform.Router, tf *temporalFlags) (activities.Board, string, bool) {
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	b, err := r.Board(ctx)
	if err != nil {
		return b, fmt.Sprintf("the router at %s did not answer: %v", tf.address(), err), false
	}
	return b, "", true
}

// liveBoard asks the router for its board when Temporal answers within
// liveTimeout; when it does not, ok is false and why says so.
func liveBoard(ctx context.Context, tf *temporalFlags) (b activities.Board, why string, ok bool) {
	r, closeRouter, why, ok := liveRouter(ctx, tf)
	if !ok {
		return b, why, false
	}
	defer closeRouter()
	return boardWithin(ctx, r, tf)
}

// routerError is a refusal of the router as its message alone (it names
// the agent and the bad value); other errors as they are.
func routerError(err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return errors.New(ae.Message())
	}
	return err
}

// describeAgent says where an agent stands: "available", "break (lunch)",
// "on_call, then break".
func describeAgent(v activities.AgentView) string {
	s := v.State
	if v.Reason != "" {
		s += " (" + v.Reason + ")"
	}
	if v.Pending != "" {
		s += ", then " + v.Pending
	}
	return s
}

// profileFlags are an agent's routing profile on the command line.
type profileFlags struct {
	skills   []string
	queues   []string
	capacity int
}

func (f *profileFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.skills, "skills", nil, "the agent's skills, name or name:level (level 1 to 10, 1 when omitted): billing:5,english")
	fl.StringSliceVar(&f.queues, "queues", nil, "the queues the agent serves, in the agent's order: support,sales")
	fl.IntVar(&f.capacity, "capacity", 1, fmt.Sprintf("calls the agent takes at once, 1 to %d", store.MaxAgentCapacity))
}

// given reports whether any profile flag was given.
func (f *profileFlags) given(cmd *cobra.Command) bool {
	fl := cmd.Flags()
	return fl.Changed("skills") || fl.Changed("queues") || fl.Changed("capacity")
}

// apply returns base with the flags given in place; errors name the flag.
func (f *profileFlags) apply(cmd *cobra.Command, base store.AgentProfile) (store.AgentProfile, error) {
	fl := cmd.Flags()
	if fl.Changed("skills") {
		skills, err := routing.ParseSkills(f.skills)
		if err != nil {
			return base, fmt.Errorf("--skills: %w", err)
		}
		base.Skills = skills
	}
	if fl.Changed("queues") {
		base.Queues = f.queues
	}
	if fl.Changed("capacity") {
		if f.capacity < 1 || f.capacity > store.MaxAgentCapacity {
			return base, fmt.Errorf("--capacity %d: must be 1 to %d", f.capacity, store.MaxAgentCapacity)
		}
		base.Capacity = f.capacity
	}
	if base.Capacity == 0 {
		base.Capacity = 1
	}
	return base, nil
}

// setProfile writes a profile; the store's complaints left after the
// flags' own checks are about queue names.
func setProfile(ctx context.Context, s *store.Store, p store.AgentProfile) error {
	err := s.SetAgentProfile(ctx, p)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("no agent %q: `voxflow agents add %s` creates it", p.Username, p.Username)
	case errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("--queues: %w", err)
	}
	return err
}

func printProfile(w io.Writer, p store.AgentProfile) {
	fmt.Fprintf(w, "agent %s: skills %s; queues %s; capacity %d\n", p.Username,
		orDash(strings.Join(routing.Skills(p.Skills).Strings(), ",")), orDash(strings.Join(p.Queues, ",")), p.Capacity)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newAgentsSetCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
		pf profileFlags
	)
	cmd := &cobra.Command{
		Use:   "set NAME [--skills billing:5,english] [--queues support,sales] [--capacity N]",
		Short: "Set an agent's routing profile: skills, queues, capacity",
		Long: `Sets the skills, queues and capacity calls are routed to the agent by; the
flags not given keep their former values (a new profile: no skills, no
queues, capacity 1). A signed-in agent's router gets the new profile at once
when Temporal answers; otherwise at the agent's next sign-in.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !pf.given(cmd) {
				return usageError{cmd, errors.New("give --skills, --queues or --capacity")}
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			base, err := s.AgentProfile(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				base, err = store.AgentProfile{Capacity: 1}, nil
			}
			if err != nil {
				return err
			}
			p, err := pf.apply(cmd, base)
			if err != nil {
				return err
			}
			p.Username = args[0]
			if err := setProfile(ctx, s, p); err != nil {
				return err
			}
			printProfile(cmd.OutOrStdout(), p)
			fmt.Fprintln(cmd.OutOrStdout(), pushProfile(ctx, &tf, p))
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	pf.register(cmd)
	return cmd
}

// pushProfile gives a signed-in agent's router the new profile, keeping
// the state the agent asked for, and says what happened.
func pushProfile(ctx context.Context, tf *temporalFlags, p store.AgentProfile) string {
	const later = "): the agent gets the profile at the next sign-in"
	r, closeRouter, why, ok := liveRouter(ctx, tf)
	if !ok {
		return "router not told (" + why + later
	}
	defer closeRouter()
	b, why, ok := boardWithin(ctx, r, tf)
	if !ok {
		return "router not told (" + why + later
	}
	var v activities.AgentView
	for _, a := range b.Agents {
		if a.Name == p.Username {
			v = a
		}
	}
	state := v.State
	if v.Pending != "" {
		state = v.Pending
	}
	if state == "" || state == string(routing.Offline) {
		return "the agent is signed out: the router gets the profile at the next sign-in"
	}
	v, err := r.SetAgent(ctx, activities.AgentRequest{Agent: p.Username, State: state, Reason: v.Reason,
		Profile: &activities.AgentProfile{Skills: p.Skills, Queues: p.Queues, Capacity: p.Capacity}})
	if err != nil {
		return "router not told (" + routerError(err).Error() + later
	}
	return "the router has the new profile (state: " + describeAgent(v) + ")"
}

func newAgentsStateCmd() *cobra.Command {
	var (
		sf     storeFlag
		tf     temporalFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "state NAME STATE [--reason R]",
		Short: "Sign an agent in (available) or out (offline), or take a break",
		Long: `Asks the router to put agent NAME in STATE: available (signed in, takes
calls), break (signed in, takes no calls; say why with --reason) or offline
(signed out). A busy agent finishes the calls first. Signing in sends the
agent's profile from the store (voxflow agents set). Prints the new state.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			st, err := routing.ParseState(args[1])
			if err != nil {
				return err
			}
			if !routing.Requestable(st) {
				return fmt.Errorf("state %q is set by routing; ask for offline, available or break", args[1])
			}
			ctx := cmd.Context()
			req := activities.AgentRequest{Agent: name, State: string(st), Reason: reason}
			if req.Profile, err = storedProfile(ctx, &sf, name, st); err != nil {
				return err
			}
			r, closeRouter, err := tf.router(ctx)
			if err != nil {
				return err
			}
			defer closeRouter()
			v, err := r.SetAgent(ctx, req)
			if err != nil {
				return routerError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent %s: %s\n", name, describeAgent(v))
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why, for a break (lunch, training)")
	return cmd
}

// storedProfile is the agent's profile as the router wants it; signing out
// needs none.
func storedProfile(ctx context.Context, sf *storeFlag, name string, st routing.State) (*activities.AgentProfile, error) {
	s, err := sf.open(ctx)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	p, err := s.AgentProfile(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound) && st == routing.Offline:
		return nil, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("agent %q has no routing profile: set the agent's skills first: voxflow agents set %s --skills ...", name, name)
	case err != nil:
		return nil, err
	}
	return &activities.AgentProfile{Skills: p.Skills, Queues: p.Queues, Capacity: p.Capacity}, nil
}

func newAgentsWrapUpCmd() *cobra.Command {
	var (
		tf                 temporalFlags
		disposition, notes string
	)
	cmd := &cobra.Command{
		Use:   "wrap-up NAME --disposition D",
		Short: "End an agent's after-call work with a disposition (kept in the call's CDR)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, closeRouter, err := tf.router(cmd.Context())
			if err != nil {
				return err
			}
			defer closeRouter()
			v, err := r.WrapUp(cmd.Context(), activities.WrapUpRequest{Agent: args[0], Disposition: disposition, Notes: notes})
			if err != nil {
				return routerError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent %s ended wrap-up (%s): %s\n", args[0], disposition, describeAgent(v))
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&disposition, "disposition", "", "how the call ended: sale, resolved, escalated... (required)")
	cmd.Flags().StringVar(&notes, "notes", "", "the agent's notes on the call, kept in its CDR")
	_ = cmd.MarkFlagRequired("disposition")
	return cmd
}
