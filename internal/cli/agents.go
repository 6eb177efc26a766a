package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/store"
)

// defaultAgentStore is the store `voxflow dev` keeps in its default data
// directory: agents added without --store go where dev finds them.
const defaultAgentStore = "voxflow-data/voxflow.db"

// agentStoreFlag is --store for the agents commands.
type agentStoreFlag struct{ dsn string }

func (f *agentStoreFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dsn, "store", defaultAgentStore,
		"store DSN (postgres://... or sqlite:///path); the default is the store of 'voxflow dev' run in this directory")
}

func (f *agentStoreFlag) open(ctx context.Context) (*store.Store, error) {
	if f.dsn == defaultAgentStore {
		if _, err := os.Stat(defaultAgentStore); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s: run `voxflow dev` in this directory first, or pass --store", defaultAgentStore)
		}
	}
	return store.Open(ctx, f.dsn)
}

func newAgentsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "Manage the SIP accounts agents' phones register with",
		Long: `Agents register their SIP phones (softphone, desk phone) to the voxflow media
workers with a username and password; calls for agent:NAME are then sent to
the phone of agent NAME. Only HA1 = md5(name:realm:password) is stored, so a
password cannot be shown again: add the agent anew to change it.`,
	}
	cmd.AddCommand(newAgentsAddCmd(), newAgentsListCmd(), newAgentsRemoveCmd())
	return cmd
}

func newAgentsAddCmd() *cobra.Command {
	var (
		sf       agentStoreFlag
		password string
		display  string
		realm    string
		disabled bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add an agent's SIP account (prints a generated password when --password is not given)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			generated := password == ""
			if generated {
				var err error
				if password, err = generatePassword(16); err != nil {
					return err
				}
			}
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			err = s.AddSIPAccount(cmd.Context(), store.SIPAccount{
				Username: name, Realm: realm, HA1: registrar.HA1(name, realm, password),
				DisplayName: display, Enabled: !disabled,
			})
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("agent %q already exists: remove it first to change its password", name)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "agent %s added (realm %s)\n", name, realm)
			if generated {
				fmt.Fprintf(out, "password: %s\n", password)
			}
			fmt.Fprintf(out, "Register a SIP phone as user %s with that password at the media worker's SIP address,\n"+
				"e.g. sip:%s@127.0.0.1:5060 for voxflow dev (domain/registrar 127.0.0.1:5060, UDP or TCP).\n", name, name)
			return nil
		},
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&password, "password", "", "the agent's SIP password (default: generate one and print it)")
	f.StringVar(&display, "display-name", "", "the agent's display name")
	f.StringVar(&realm, "realm", registrar.DefaultRealm, "digest realm; must match the media workers' --realm")
	f.BoolVar(&disabled, "disabled", false, "add the account disabled (its REGISTERs get 403)")
	return cmd
}

func newAgentsListCmd() *cobra.Command {
	var sf agentStoreFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List agents with the contacts their phones are registered at",
		Args:  noArgs,
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
			now := time.Now()
			regs, err := s.LiveRegistrations(ctx, "", now)
			if err != nil {
				return err
			}
			byUser := map[string][]store.Registration{}
			for _, r := range regs {
				byUser[r.Username] = append(byUser[r.Username], r)
			}
			if len(accounts) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no agents: add one with `voxflow agents add NAME`")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tREALM\tENABLED\tCREATED\tREGISTERED AT")
			for _, a := range accounts {
				contacts := "-"
				if rs := byUser[a.Username]; len(rs) > 0 {
					var parts []string
					for _, r := range rs {
						parts = append(parts, fmt.Sprintf("%s (from %s/%s via %s, %ds left)",
							r.Contact, r.Source, r.Transport, r.WorkerID, int(r.ExpiresAt.Sub(now).Seconds())))
					}
					contacts = strings.Join(parts, "; ")
				}
				display := a.DisplayName
				if display == "" {
					display = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", a.Username, display, a.Realm, a.Enabled,
					a.CreatedAt.Local().Format("2006-01-02 15:04"), contacts)
			}
			return tw.Flush()
		},
	}
	sf.register(cmd)
	return cmd
}

func newAgentsRemoveCmd() *cobra.Command {
	var sf agentStoreFlag
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
			return nil
		},
	}
	sf.register(cmd)
	return cmd
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
