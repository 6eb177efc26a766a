package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/store"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log: who published, bound, reset, terminated, managed users and keys, signed in",
		Long: `The API writes one audit entry per operator's or admin's action (flow
publish and rollback, number binding, call reset and terminate, users, API
keys, campaign controls, sign-ins, failed sign-ins and lockouts); CLI resets
add theirs. The log is in the store, which this command reads directly (as
'voxflow agents' does); over HTTP it is GET /api/v1/audit (admin).`,
	}
	cmd.AddCommand(newAuditListCmd())
	return cmd
}

func newAuditListCmd() *cobra.Command {
	var (
		sf           storeFlag
		f            store.AuditFilter
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit entries, newest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if f.Since, err = parseAuditTime("since", since); err != nil {
				return err
			}
			if f.Until, err = parseAuditTime("until", until); err != nil {
				return err
			}
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			es, err := s.AuditLog(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), es)
			}
			return printAudit(cmd.OutOrStdout(), es)
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&f.Actor, "actor", "", "only this actor (a username, key:NAME or user@host)")
	cmd.Flags().StringVar(&f.Action, "action", "", "only this action (e.g. flow.publish, user.delete, signin.failure)")
	cmd.Flags().StringVar(&f.Target, "target", "", "only this target (flow, number, call ID, username, key ID)")
	cmd.Flags().StringVar(&since, "since", "", "entries at or after: RFC 3339 time, or a duration ago (24h)")
	cmd.Flags().StringVar(&until, "until", "", "entries before: RFC 3339 time, or a duration ago")
	cmd.Flags().IntVar(&f.Limit, "limit", 100, "at most this many (up to 500)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// parseAuditTime reads an RFC 3339 time or a duration before now.
func parseAuditTime(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time (2026-12-07T10:00:00Z) or a duration (24h)", flag, v)
}

func printAudit(w io.Writer, es []store.AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACTOR\tROLE\tVIA\tSOURCE\tACTION\tTARGET\tDETAILS")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Local().Format(time.DateTime), e.Actor, e.Role, e.Via,
			e.Source, e.Action, e.Target, e.Details)
	}
	return tw.Flush()
}

// cliActor names the person running a CLI command: OS user@host.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}

// auditCLI records a CLI action that went straight to Temporal, when the
// store is reachable; otherwise it says so on errOut and goes on (the
// action has happened).
func auditCLI(ctx context.Context, sf storeFlag, errOut io.Writer, action, target string, details map[string]any) {
	s, err := sf.open(ctx)
	if err == nil {
		defer s.Close()
		b, _ := json.Marshal(details)
		_, err = s.AddAudit(ctx, store.AuditEntry{Actor: cliActor(), Via: "cli", Action: action, Target: target, Details: string(b)})
	}
	if err != nil {
		fmt.Fprintf(errOut, "note: not written to the audit log (%v)\n", err)
	}
}
