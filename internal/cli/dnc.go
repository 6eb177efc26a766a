package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/dialer"
	"github.com/voxflow/voxflow/store"
)

func newDNCCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dnc",
		Short: "Manage do-not-call lists: numbers campaigns never dial",
		Long: `A number on the global do-not-call list is never dialled by any campaign; a
number on a campaign's list (--campaign) is not dialled by that campaign.
Numbers are kept in E.164 (+14155550100); one written without its country
code is read in --region (default US).`,
	}
	cmd.AddCommand(newDNCAddCmd(), newDNCRemoveCmd(), newDNCListCmd(), newDNCImportCmd(), newDNCCheckCmd())
	return cmd
}

// dncFlags are the list and region flags of the dnc commands.
type dncFlags struct {
	campaign, region string
}

func (f *dncFlags) register(cmd *cobra.Command, campaignHelp string) {
	cmd.Flags().StringVar(&f.campaign, "campaign", "", campaignHelp)
	cmd.Flags().StringVar(&f.region, "region", designerapi.DefaultDNCRegion, "country (ISO 3166) of numbers written without a country code")
}

// number is raw in E.164, or an error naming it.
func (f *dncFlags) number(raw string) (string, error) {
	n, err := dialer.NormalizeNumber(raw, f.region)
	if err != nil {
		return "", fmt.Errorf("number %q: %w", raw, err)
	}
	return n, nil
}

// checkCampaign refuses a --campaign that does not exist.
func (f *dncFlags) checkCampaign(ctx context.Context, s *store.Store) error {
	if f.campaign == "" {
		return nil
	}
	_, err := s.GetCampaign(ctx, f.campaign)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--campaign %q: no such campaign (`voxflow campaigns list` lists them)", f.campaign)
	}
	return err
}

// listName names the list --campaign picks.
func (f *dncFlags) listName() string {
	if f.campaign == "" {
		return "the global do-not-call list"
	}
	return "campaign " + f.campaign + "'s do-not-call list"
}

// runningCampaigns lists the IDs of the running campaigns a change of the
// list of campaign ("": global) concerns.
func runningCampaigns(ctx context.Context, s *store.Store, campaign string) ([]string, error) {
	cs, err := s.ListCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		if c.State == records.CampaignRunning && (campaign == "" || c.ID == campaign) {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

func newDNCAddCmd() *cobra.Command {
	var (
		sf     storeFlag
		tf     temporalFlags
		df     dncFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "add NUMBER... [--campaign C] [--reason R]",
		Short: "Add numbers to the global do-not-call list, or a campaign's",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var entries []records.DNCEntry
			var bad []string
			for _, raw := range args {
				n, err := df.number(raw)
				if err != nil {
					bad = append(bad, err.Error())
					continue
				}
				entries = append(entries, records.DNCEntry{Number: n, Campaign: df.campaign, Reason: reason, AddedAt: time.Now().UTC()})
			}
			if len(bad) > 0 {
				return fmt.Errorf("nothing added:\n  %s", strings.Join(bad, "\n  "))
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := df.checkCampaign(ctx, s); err != nil {
				return err
			}
			added, err := s.AddDNC(ctx, entries)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d added to %s (%d already on it)\n", added, df.listName(), len(entries)-added)
			ids, err := runningCampaigns(ctx, s, df.campaign)
			if err != nil {
				return err
			}
			nudgeRunning(cmd, s, &tf, ids...)
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	df.register(cmd, "add to this campaign's list (default the global list)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record (asked on a call)")
	return cmd
}

func newDNCRemoveCmd() *cobra.Command {
	var (
		sf storeFlag
		df dncFlags
	)
	cmd := &cobra.Command{
		Use:   "remove NUMBER [--campaign C]",
		Short: "Take a number off the global do-not-call list, or a campaign's",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := df.number(args[0])
			if err != nil {
				return err
			}
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			ok, err := s.RemoveDNC(cmd.Context(), n, df.campaign)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s is not on %s", n, df.listName())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s removed from %s\n", n, df.listName())
			return nil
		},
	}
	sf.register(cmd)
	df.register(cmd, "remove from this campaign's list (default the global list)")
	return cmd
}

func newDNCListCmd() *cobra.Command {
	var (
		sf    storeFlag
		df    dncFlags
		after string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list [--campaign C] [--after NUMBER] [--limit N]",
		Short: "List a do-not-call list by number",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return fmt.Errorf("--limit %d: want 1 to 1000", limit)
			}
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			es, err := s.ListDNC(cmd.Context(), df.campaign, after, limit)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(es) == 0 {
				fmt.Fprintf(out, "no numbers on %s\n", df.listName())
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NUMBER\tCAMPAIGN\tREASON\tADDED")
			for _, e := range es {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Number, orDash(e.Campaign), orDash(e.Reason), e.AddedAt.Local().Format("2006-01-02 15:04"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(es) == limit {
				fmt.Fprintf(out, "more with --after %s\n", es[len(es)-1].Number)
			}
			return nil
		},
	}
	sf.register(cmd)
	df.register(cmd, "list this campaign's numbers (default the global list)")
	cmd.Flags().StringVar(&after, "after", "", "only numbers after this one (the next page)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many (1 to 1000)")
	return cmd
}

func newDNCImportCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
		df dncFlags
	)
	cmd := &cobra.Command{
		Use:   "import FILE.csv [--campaign C]",
		Short: "Add the numbers of a CSV file: one per row, with optional reason and campaign columns",
		Long: `Adds the numbers of a CSV file to do-not-call lists: one number per row, then
optionally a reason and a campaign (the list of rows that name none is
--campaign's, default the global one). A first row naming the columns (phone
or number, reason, campaign) is read as a header.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := df.checkCampaign(ctx, s); err != nil {
				return err
			}
			rep, err := designerapi.ImportDNC(ctx, s, designerapi.DNCOptions{Region: df.region, Campaign: df.campaign}, f)
			printReport(cmd.OutOrStdout(), rep)
			if rep.Accepted > 0 {
				ids, lerr := runningCampaigns(ctx, s, "")
				if lerr != nil {
					return lerr
				}
				nudgeRunning(cmd, s, &tf, ids...)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	df.register(cmd, "the list of rows that name no campaign (default the global list)")
	return cmd
}

func newDNCCheckCmd() *cobra.Command {
	var (
		sf storeFlag
		df dncFlags
	)
	cmd := &cobra.Command{
		Use:   "check NUMBER [--campaign C]",
		Short: "Say whether a number is on the global do-not-call list (or the campaign's)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := df.number(args[0])
			if err != nil {
				return err
			}
			s, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			e, listed, err := s.CheckDNC(cmd.Context(), n, df.campaign)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !listed {
				where := "the global do-not-call list"
				if df.campaign != "" {
					where += " nor campaign " + df.campaign + "'s"
				}
				fmt.Fprintf(out, "%s is not on %s\n", n, where)
				return nil
			}
			on := dncFlags{campaign: e.Campaign}
			fmt.Fprintf(out, "%s is on %s since %s", n, on.listName(), e.AddedAt.Local().Format("2006-01-02 15:04"))
			if e.Reason != "" {
				fmt.Fprintf(out, " (%s)", e.Reason)
			}
			fmt.Fprintln(out)
			return nil
		},
	}
	sf.register(cmd)
	df.register(cmd, "check this campaign's list too")
	return cmd
}
