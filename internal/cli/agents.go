package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// defaultStore is the store `voxflow dev` keeps in its default data
// directory: agents and queues added without --store go where dev finds
// them.
const defaultStore = "voxflow-data/voxflow.db"

// storeFlag is --store for the commands that read and write the store
// themselves (agents, queues, callbacks).
type storeFlag struct{ dsn string }

func (f *storeFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dsn, "store", defaultStore,
		"store DSN (postgres://... or sqlite:///path); the default is the store of 'voxflow dev' run in this directory")
}

func (f *storeFlag) open(ctx context.Context) (*store.Store, error) {
	if f.dsn == defaultStore {
		if _, err := os.Stat(defaultStore); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s: run `voxflow dev` in this directory first, or pass --store", defaultStore)
		}
	}
	return store.Open(ctx, f.dsn)
}

func newAgentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "Manage agents: SIP accounts, routing profiles and states",
		Long: `Agents register their SIP phones (softphone, desk phone) to the voxflow media
workers with a username and password; calls for agent:NAME are then sent to
the phone of agent NAME. Only HA1 = md5(name:realm:password) is stored, so a
password cannot be shown again: add the agent anew to change it.

Queues route calls to agents by their profile (skills, queues, capacity:
voxflow agents set) and state (voxflow agents state NAME available).`,
	}
	cmd.AddCommand(newAgentsAddCmd(), newAgentsListCmd(), newAgentsRemoveCmd(),
		newAgentsSetCmd(), newAgentsStateCmd(), newAgentsWrapUpCmd())
	return cmd
}

// agentAccount is what `agents add` is told of the SIP account.
type agentAccount struct {
	password, display, realm string
	disabled                 bool
}

func newAgentsAddCmd() *cobra.Command {
	var (
		sf  storeFlag
		pf  profileFlags
		acc agentAccount
	)
	cmd := &cobra.Command{
		Use:   "add NAME [--skills billing:5,english] [--queues support,sales] [--capacity 1]",
		Short: "Add an agent's SIP account (prints a generated password when --password is not given) and routing profile",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var profile *store.AgentProfile
			if pf.given(cmd) { // checked first: a bad flag adds nothing
				p, err := pf.apply(cmd, store.AgentProfile{Username: args[0], Capacity: 1})
				if err != nil {
					return err
				}
				profile = &p
			}
			return addAgent(cmd, &sf, args[0], acc, profile)
		},
	}
	sf.register(cmd)
	pf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&acc.password, "password", "", "the agent's SIP password (default: generate one and print it)")
	f.StringVar(&acc.display, "display-name", "", "the agent's display name")
	f.StringVar(&acc.realm, "realm", registrar.DefaultRealm, "digest realm; must match the media workers' --realm")
	f.BoolVar(&acc.disabled, "disabled", false, "add the account disabled (its REGISTERs get 403)")
	return cmd
}

// addAgent adds the SIP account, then the profile if any; a profile the
// store refuses takes the account back out.
func addAgent(cmd *cobra.Command, sf *storeFlag, name string, acc agentAccount, profile *store.AgentProfile) error {
	ctx := cmd.Context()
	generated := acc.password == ""
	if generated {
		var err error
		if acc.password, err = generatePassword(16); err != nil {
			return err
		}
	}
	s, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	err = s.AddSIPAccount(ctx, store.SIPAccount{
		Username: name, Realm: acc.realm, HA1: registrar.HA1(name, acc.realm, acc.password),
		DisplayName: acc.display, Enabled: !acc.disabled,
	})
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("agent %q already exists: remove it first to change its password", name)
	}
	if err != nil {
		return err
	}
	if profile != nil {
		if err := setProfile(ctx, s, *profile); err != nil {
			if rmErr := s.RemoveSIPAccount(ctx, name); rmErr != nil {
				return fmt.Errorf("%w (and removing the account added meanwhile failed: %v)", err, rmErr)
			}
			return fmt.Errorf("agent %s not added: %w", name, err)
		}
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "agent %s added (realm %s)\n", name, acc.realm)
	if generated {
		fmt.Fprintf(out, "password: %s\n", acc.password)
	}
	if profile != nil {
		printProfile(out, *profile)
	}
	fmt.Fprintf(out, "Register a SIP phone as user %s with that password at the media worker's SIP address,\n"+
		"e.g. sip:%s@127.0.0.1:5060 for voxflow dev (domain/registrar 127.0.0.1:5060, UDP or TCP).\n", name, name)
	addDeskUser(cmd, s, name, acc.password)
	return nil
}

// addDeskUser gives the agent a sign-in for the browser desk (/agent): an
// API user with role agent and the same password, unless a user of that
// name exists (its role and password are left alone).
func addDeskUser(cmd *cobra.Command, s *store.Store, name, password string) {
	out := cmd.OutOrStdout()
	auth, err := designerapi.NewAuth(s, designerapi.AuthOptions{})
	if err == nil {
		_, err = auth.CreateUser(cmd.Context(), name, password, designerapi.RoleAgent)
	}
	switch {
	case errors.Is(err, designerapi.ErrUserExists):
		fmt.Fprintf(out, "Desk: user %s already exists; it signs in on /agent with its own password.\n", name)
	case err != nil:
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: no desk sign-in for %s: %v\n", name, err)
	default:
		fmt.Fprintf(out, "Or take calls in a browser: sign in on the desk, e.g. http://127.0.0.1:8080/agent for voxflow dev, as %s with that password.\n", name)
	}
}

func newAgentsListCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List agents: routing profiles, live states and the contacts their phones are registered at",
		Long: `Lists every agent's SIP account, routing profile (skills, queues, capacity),
state and time in state as the router has them, and the contacts the agent's
phones registered.
The state is asked of Temporal for at most 2 seconds; when it does not
answer, the states are unknown and the rest is listed all the same.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			accounts, err := s.SIPAccounts(ctx)
			if err != nil {
				return err
			}
			if len(accounts) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no agents: add one with `voxflow agents add NAME`")
				return nil
			}
			profiles, err := s.AgentProfiles(ctx)
			if err != nil {
				return err
			}
			now := time.Now()
			regs, err := s.LiveRegistrations(ctx, "", now)
			if err != nil {
				return err
			}
			board, why, live := liveBoard(ctx, &tf)
			if !live {
				fmt.Fprintf(cmd.ErrOrStderr(), "state: unknown (%s)\n", why)
			}
			return printAgents(cmd.OutOrStdout(), agentRows{accounts, profiles, regs, board, live}, now)
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	return cmd
}

// agentRows is what `agents list` shows.
type agentRows struct {
	accounts []store.SIPAccount
	profiles []store.AgentProfile
	regs     []store.Registration
	board    activities.Board
	live     bool // the board is the router's
}

func printAgents(w io.Writer, rows agentRows, now time.Time) error {
	byUser := map[string][]store.Registration{}
	for _, r := range rows.regs {
		byUser[r.Username] = append(byUser[r.Username], r)
	}
	profiles := map[string]store.AgentProfile{}
	for _, p := range rows.profiles {
		profiles[p.Username] = p
	}
	states := map[string]activities.AgentView{}
	for _, v := range rows.board.Agents {
		states[v.Name] = v
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tREALM\tENABLED\tCREATED\tSKILLS\tQUEUES\tCAPACITY\tSTATE\tIN STATE\tREGISTERED AT")
	for _, a := range rows.accounts {
		contacts := "-"
		if rs := byUser[a.Username]; len(rs) > 0 {
			var parts []string
			for _, r := range rs {
				parts = append(parts, fmt.Sprintf("%s (from %s/%s via %s, %ds left)",
					r.Contact, r.Source, r.Transport, r.WorkerID, int(r.ExpiresAt.Sub(now).Seconds())))
			}
			contacts = strings.Join(parts, "; ")
		}
		skills, queues, capacity := "-", "-", "-"
		if p, ok := profiles[a.Username]; ok {
			skills, queues = orDash(strings.Join(routing.Skills(p.Skills).Strings(), ",")), orDash(strings.Join(p.Queues, ","))
			capacity = strconv.Itoa(p.Capacity)
		}
		state, since := "unknown", "-"
		if rows.live {
			state = string(routing.Offline)
			if v, ok := states[a.Username]; ok {
				state = describeAgent(v)
				if !v.Since.IsZero() {
					since = now.Sub(v.Since).Round(time.Second).String()
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Username, orDash(a.DisplayName), a.Realm, a.Enabled,
			a.CreatedAt.Local().Format("2006-01-02 15:04"), skills, queues, capacity, state, since, contacts)
	}
	return tw.Flush()
}

func newAgentsRemoveCmd() *cobra.Command {
	var sf storeFlag
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an agent's SIP account and its registrations",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.RemoveSIPAccount(cmd.Context(), args[0]); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no agent %q", args[0])
			} else if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent %s removed\n", args[0])
			removeDeskUser(cmd, s, args[0])
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}

// removeDeskUser removes the agent's desk sign-in, if it is one (an API
// user of role agent: a user with more rights is left alone).
func removeDeskUser(cmd *cobra.Command, s *store.Store, name string) {
	auth, err := designerapi.NewAuth(s, designerapi.AuthOptions{})
	if err != nil {
		return
	}
	u, err := auth.User(cmd.Context(), name)
	if err != nil || u.Role != designerapi.RoleAgent {
		return
	}
	if err := auth.DeleteUser(cmd.Context(), name); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: desk sign-in of %s not removed: %v\n", name, err)
		return
	}
	fmt.Fprintf(cmd.OutOrStdout(), "desk sign-in %s removed\n", name)
}

// generatePassword returns n characters from an alphabet without look-alikes.
func generatePassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate a password: %w", err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b), nil
}
