package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

func newCampaignsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaigns",
		Short: "Run outbound campaigns: contact lists, calling windows, retries, pacing",
		Long: `A campaign dials a list of contacts and runs a published flow on each answered
call: in preview mode an agent sees the contact and clicks to dial; in
progressive mode one line per available agent; in predictive mode more lines
per agent under the abandon cap; agentless campaigns play a flow alone (reminders).

Create one with voxflow campaigns create, add contacts from a CSV with
voxflow campaigns import, then start it. Numbers on a do-not-call list
(voxflow dnc) are never dialled.`,
	}
	cmd.AddCommand(newCampaignsCreateCmd(), newCampaignsImportCmd(), newCampaignsListCmd(), newCampaignsShowCmd(),
		newCampaignsStatsCmd(), newCampaignsContactsCmd())
	for _, action := range []string{"start", "pause", "resume", "stop"} {
		cmd.AddCommand(newCampaignsControlCmd(action))
	}
	return cmd
}

// withCampaign opens the store, reads campaign id and runs fn with both.
func (f *storeFlag) withCampaign(ctx context.Context, id string, fn func(*store.Store, records.Campaign) error) error {
	s, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := getCampaign(ctx, s, id)
	if err != nil {
		return err
	}
	return fn(s, c)
}

// getCampaign reads campaign id, saying how to find one when it is not.
func getCampaign(ctx context.Context, s *store.Store, id string) (records.Campaign, error) {
	c, err := s.GetCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("no campaign %q: `voxflow campaigns list` lists them", id)
	}
	return c, err
}

func newCampaignsCreateCmd() *cobra.Command {
	var (
		sf       storeFlag
		tf       temporalFlags
		cf       campaignFlags
		file     string
		contacts string
	)
	cmd := &cobra.Command{
		Use:   "create ID --flow F --mode M [--queue Q] [settings...] [--contacts FILE.csv] | create [ID] --file campaign.yaml",
		Short: "Create a draft campaign (and import its contacts); settings not given take the defaults",
		Long: `Creates a draft campaign, from flags or from a YAML file (--file) whose keys are
the API's: id, name, flow, mode, queue, caller_id, region, window {start, end,
days}, max_attempts, min_spacing, retry [{outcome, delay, max}], ring_timeout,
machine, machine_text, abandon_cap, abandon_text, concurrency, rate_per_minute,
max_ratio, required, and contacts (a CSV path, relative to the file).

Its flow must be published, and the queue of an agent mode defined.
--retry OUTCOME=DELAY*MAX, repeatable: busy=10m*3 no_answer=1h*2.
--days mon-fri or mon,wed,fri.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, settings, csvPath, err := cf.campaignSource(cmd, args, file, contacts)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			c, err := createCampaign(ctx, s, id, settings, file != "")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "campaign %s created (draft): %s\n", c.ID, describeCampaign(c))
			if csvPath != "" {
				if err := importFile(cmd, s, &tf, c, csvPath); err != nil {
					return err
				}
			}
			fmt.Fprintf(out, "start it with: voxflow campaigns start %s\n", c.ID)
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	cf.register(cmd)
	cmd.Flags().StringVar(&file, "file", "", "read the campaign from this YAML file instead of the setting flags")
	cmd.Flags().StringVar(&contacts, "contacts", "", "import the contacts of this CSV file once the campaign is created")
	return cmd
}

// createCampaign validates settings, checks the flow and queue, and
// stores the campaign; problems are listed one per line, by flag (or by
// the file's key when fromFile).
func createCampaign(ctx context.Context, s *store.Store, id string, settings designerapi.CampaignSettings, fromFile bool) (records.Campaign, error) {
	c, err := designerapi.CampaignFrom(id, settings)
	if err == nil {
		err = designerapi.CheckCampaignRefs(ctx, s, c)
	}
	if err != nil {
		return c, settingsError(err, fromFile)
	}
	err = s.CreateCampaign(ctx, c)
	if errors.Is(err, store.ErrCampaignExists) {
		return c, fmt.Errorf("%w: pick another ID, or see it with `voxflow campaigns show %s`", err, id)
	}
	if err != nil {
		return c, err
	}
	return s.GetCampaign(ctx, id)
}

// describeCampaign sums a campaign up in a line.
func describeCampaign(c records.Campaign) string {
	s := fmt.Sprintf("%s, flow %s", c.Mode, c.Flow)
	if c.Queue != "" {
		s += ", queue " + c.Queue
	}
	return s + fmt.Sprintf(", window %s-%s %s", c.Window.Start, c.Window.End, days(c.Window.Days))
}

func days(ds []string) string {
	if len(ds) == 0 {
		return "every day"
	}
	return strings.Join(ds, ",")
}

func newCampaignsImportCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
	)
	cmd := &cobra.Command{
		Use:   "import ID FILE.csv",
		Short: "Add contacts from a CSV file and print what came of each row",
		Long: `Adds the contacts of a CSV file to a campaign's list. The header names the
columns: the number in phone, number, phone_number, msisdn or mobile; an
optional timezone (IANA, like America/Chicago) and region; every other column
becomes a variable of the call's flow. Numbers already on the list are not
added twice, so a file can be imported again after fixing its rejected rows.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return sf.withCampaign(ctx, args[0], func(s *store.Store, c records.Campaign) error {
				return importFile(cmd, s, &tf, c, args[1])
			})
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	return cmd
}

// importFile imports a contacts CSV into c, prints the report and nudges
// c when it runs.
func importFile(cmd *cobra.Command, s *store.Store, tf *temporalFlags, c records.Campaign, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	defer f.Close()
	rep, err := designerapi.ImportContacts(cmd.Context(), s, c, f)
	printReport(cmd.OutOrStdout(), rep)
	if rep.Accepted > 0 && c.State == records.CampaignRunning {
		nudgeRunning(cmd, s, tf, c.ID)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// printReport writes an import's counts and its rejected rows, one per line.
func printReport(w io.Writer, r designerapi.ImportReport) {
	fmt.Fprintf(w, "rows %d: %d accepted, %d duplicates, %d rejected\n", r.Rows, r.Accepted, r.Duplicates, r.Rejected)
	for _, e := range r.Errors {
		fmt.Fprintln(w, e.Error())
	}
	if r.Truncated {
		fmt.Fprintf(w, "... and %d more rejected rows\n", r.Rejected-len(r.Errors))
	}
}

// nudgeRunning tells running campaigns to look again now, if Temporal
// answers in time; else it says they will on their own.
func nudgeRunning(cmd *cobra.Command, s *store.Store, tf *temporalFlags, ids ...string) {
	if len(ids) == 0 {
		return
	}
	out := cmd.OutOrStdout()
	r, closeRouter, why, ok := liveRouter(cmd.Context(), tf)
	if ok {
		defer closeRouter()
		ctx, cancel := context.WithTimeout(cmd.Context(), liveTimeout)
		defer cancel()
		cc := platform.Campaigns{Client: r.Client, Store: s}
		for _, id := range ids {
			if err := cc.Nudge(ctx, id); err != nil {
				fmt.Fprintf(out, "campaign %s not told (%v); it looks again on its own within a minute\n", id, err)
			}
		}
		return
	}
	fmt.Fprintf(out, "running campaigns not told (%s); they look again on their own within a minute\n", why)
}

func newCampaignsListCmd() *cobra.Command {
	var sf storeFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List campaigns with their state and progress",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			cs, err := s.ListCampaigns(ctx)
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no campaigns: create one with `voxflow campaigns create ID --flow F --mode M`")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tMODE\tSTATE\tFLOW\tPROGRESS\tABANDON 30D")
			since := time.Now().Add(-30 * 24 * time.Hour)
			for _, c := range cs {
				counts, _, err := s.ContactCounts(ctx, c.ID)
				if err != nil {
					return err
				}
				tally, err := s.CampaignTally(ctx, c.ID, since)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Mode, c.State, c.Flow, progress(counts), percent(tally.AbandonRate()))
			}
			return tw.Flush()
		},
	}
	sf.register(cmd)
	return cmd
}

// progress is the share of the list finished (done or skipped).
func progress(counts map[string]int) string {
	total := 0
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return "no contacts"
	}
	finished := counts[records.ContactDone] + counts[records.ContactSkipped]
	return fmt.Sprintf("%s (%d/%d)", percent(float64(finished)/float64(total)), finished, total)
}

// percent writes a share as a percentage with one decimal: 2.5%.
func percent(v float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*v), ".0") + "%"
}

func newCampaignsShowCmd() *cobra.Command {
	var sf storeFlag
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a campaign's settings, defaults in place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return sf.withCampaign(ctx, args[0], func(s *store.Store, c records.Campaign) error {
				printCampaign(cmd.OutOrStdout(), c)
				return nil
			})
		},
	}
	sf.register(cmd)
	return cmd
}

func printCampaign(w io.Writer, c records.Campaign) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "campaign %s (%s)\n", c.ID, c.State)
	var retry []string
	for _, r := range c.Retry {
		retry = append(retry, fmt.Sprintf("%s=%s*%d", r.Outcome, r.Delay, r.Max))
	}
	rate := "no bound"
	if c.RatePerMinute > 0 {
		rate = fmt.Sprintf("%d dials a minute", c.RatePerMinute)
	}
	for _, kv := range [][2]string{
		{"name", c.Name}, {"flow", c.Flow}, {"mode", c.Mode}, {"queue", orDash(c.Queue)}, {"caller id", orDash(c.CallerID)},
		{"region", orDash(c.Region)}, {"window", fmt.Sprintf("%s-%s %s", c.Window.Start, c.Window.End, days(c.Window.Days))},
		{"max attempts", fmt.Sprint(c.MaxAttempts)}, {"min spacing", c.MinSpacing.String()},
		{"retry", orDash(strings.Join(retry, " "))}, {"ring timeout", c.RingTimeout.String()},
		{"machine", c.Machine + textSuffix(c.MachineText)}, {"abandon cap", percent(c.AbandonCap) + textSuffix(c.AbandonText)},
		{"concurrency", fmt.Sprint(c.Concurrency)}, {"rate", rate}, {"max ratio", fmt.Sprint(c.MaxRatio)},
		{"required columns", orDash(strings.Join(c.Required, ","))},
		{"created", c.CreatedAt.Local().Format("2006-01-02 15:04")}, {"updated", c.UpdatedAt.Local().Format("2006-01-02 15:04")},
	} {
		fmt.Fprintf(tw, "  %s:\t%s\n", kv[0], kv[1])
	}
	_ = tw.Flush()
}

func textSuffix(t string) string {
	if t == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", t)
}

func newCampaignsControlCmd(action string) *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
	)
	short := map[string]string{
		"start":  "Start dialling a draft, paused or stopped campaign",
		"pause":  "Pause a running campaign: no new dials; calls in progress finish",
		"resume": "Resume a paused campaign",
		"stop":   "Stop a campaign: no new dials; it ends once its calls in progress have",
	}[action]
	cmd := &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return sf.withCampaign(ctx, args[0], func(s *store.Store, c records.Campaign) error {
				done, err := designerapi.CampaignAction(action, c)
				if err != nil {
					return err
				}
				if !done {
					if err := controlCampaign(ctx, s, &tf, action, c.ID); err != nil {
						return err
					}
				}
				if c, err = s.GetCampaign(ctx, c.ID); err != nil {
					return err
				}
				if want := actionState[action]; c.State != want {
					fmt.Fprintf(cmd.OutOrStdout(), "campaign %s: %s sent; it is %s until its workflow takes it\n", c.ID, action, c.State)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "campaign %s: %s\n", c.ID, c.State)
				return nil
			})
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	return cmd
}

// actionState is the state each action leads to.
var actionState = map[string]string{"start": records.CampaignRunning, "pause": records.CampaignPaused,
	"resume": records.CampaignRunning, "stop": records.CampaignStopped}

// controlCampaign runs action on campaign id through Temporal.
func controlCampaign(ctx context.Context, s *store.Store, tf *temporalFlags, action, id string) error {
	client, err := tf.dial()
	if err != nil {
		return err
	}
	defer client.Close()
	cc := platform.Campaigns{Client: client, Store: s}
	call := map[string]func(context.Context, string) error{"start": cc.Start, "pause": cc.Pause, "resume": cc.Resume, "stop": cc.Stop}[action]
	if err := call(ctx, id); err != nil {
		if errors.Is(err, platform.ErrCampaignState) {
			return err
		}
		return fmt.Errorf("%s campaign %s: %w", action, id, err)
	}
	return nil
}

func newCampaignsStatsCmd() *cobra.Command {
	var (
		sf     storeFlag
		tf     temporalFlags
		asJSON bool
		watch  bool
		every  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "stats ID [--json] [--watch]",
		Short: "Show a campaign's progress, today's and 30 days' figures and, while it runs, its pacing and agents",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if every <= 0 {
				return fmt.Errorf("--every %s: must be positive", every)
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := getCampaign(ctx, s, args[0]); err != nil {
				return err
			}
			var cc designerapi.CampaignControl
			r, closeRouter, why, live := liveRouter(ctx, &tf)
			if live {
				defer closeRouter()
				cc = platform.Campaigns{Client: r.Client, Store: s}
			}
			return watchStats(ctx, cmd.OutOrStdout(), watch, every, func() error {
				lctx, cancel := context.WithTimeout(ctx, liveTimeout)
				defer cancel()
				st, err := designerapi.LoadCampaignStats(lctx, s, cc, args[0], time.Now())
				if err != nil {
					return err
				}
				if !live && st.LiveError != "" {
					st.LiveError = why
				}
				if asJSON {
					b, _ := json.Marshal(st)
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
					return err
				}
				printStats(cmd.OutOrStdout(), st)
				return nil
			})
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON (one object per line with --watch)")
	cmd.Flags().BoolVar(&watch, "watch", false, "print them again every --every until interrupted")
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "how often --watch prints")
	return cmd
}

// watchStats prints once, or with watch every interval until ctx ends.
func watchStats(ctx context.Context, w io.Writer, watch bool, every time.Duration, print func() error) error {
	if err := print(); err != nil || !watch {
		return err
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			fmt.Fprintln(w)
			if err := print(); err != nil {
				return err
			}
		}
	}
}

func printStats(w io.Writer, st designerapi.CampaignStats) {
	c := st.Campaign
	fmt.Fprintf(w, "campaign %s (%s, %s) at %s\n", c.ID, c.Mode, c.State, st.At.Local().Format("15:04:05"))
	total := 0
	for _, n := range st.Contacts {
		total += n
	}
	fmt.Fprintf(w, "contacts: %d: %d pending, %d dialing, %d done, %d skipped; %s finished\n", total,
		st.Contacts[records.ContactPending], st.Contacts[records.ContactDialing], st.Contacts[records.ContactDone],
		st.Contacts[records.ContactSkipped], progress(st.Contacts))
	if len(st.Skipped) > 0 {
		reasons := make([]string, 0, len(st.Skipped))
		for r, n := range st.Skipped {
			reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
		}
		sort.Strings(reasons)
		fmt.Fprintf(w, "skipped: %s\n", strings.Join(reasons, ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tTODAY (UTC)\tLAST 30 DAYS")
	d, m := st.Today, st.Last30d
	for _, row := range []struct {
		name string
		a, b string
	}{
		{"dials", fmt.Sprint(d.Dials), fmt.Sprint(m.Dials)},
		{"answered by a person", fmt.Sprint(d.Human), fmt.Sprint(m.Human)},
		{"answered by a machine", fmt.Sprint(d.Machine), fmt.Sprint(m.Machine)},
		{"busy", fmt.Sprint(d.Busy), fmt.Sprint(m.Busy)},
		{"no answer", fmt.Sprint(d.NoAnswer), fmt.Sprint(m.NoAnswer)},
		{"failed", fmt.Sprint(d.Failed), fmt.Sprint(m.Failed)},
		{"abandoned", fmt.Sprint(d.Abandoned), fmt.Sprint(m.Abandoned)},
		{"answer rate", percent(d.AnswerRate), percent(m.AnswerRate)},
		{"machine rate", percent(d.MachineRate), percent(m.MachineRate)},
		{"abandon rate", percent(d.AbandonRate), percent(m.AbandonRate) + " (cap " + percent(c.AbandonCap) + ")"},
		{"talk time", d.Talk, m.Talk},
	} {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", row.name, row.a, row.b)
	}
	_ = tw.Flush()
	printLiveCampaign(w, st)
}

func printLiveCampaign(w io.Writer, st designerapi.CampaignStats) {
	l := st.Live
	if l == nil {
		if st.LiveError != "" {
			fmt.Fprintf(w, "live: unknown (%s)\n", st.LiveError)
		}
		return
	}
	pacing := l.Pacing
	if l.Reason != "" {
		pacing += " (" + l.Reason + ")"
	}
	fmt.Fprintf(w, "live: pacing %s; %d lines in flight", pacing, l.Lines)
	if l.Ratio > 0 {
		fmt.Fprintf(w, ", %.2f per available agent", l.Ratio)
	}
	fmt.Fprintf(w, "\n  agents %d signed in, %d available, %d busy; occupancy %s\n",
		l.AgentsSignedIn, l.AgentsAvailable, l.AgentsBusy, percent(l.Occupancy))
}

func newCampaignsContactsCmd() *cobra.Command {
	var (
		sf    storeFlag
		state string
		after int64
		limit int
	)
	cmd := &cobra.Command{
		Use:   "contacts ID [--state pending|dialing|done|skipped] [--after N] [--limit N]",
		Short: "List a campaign's contacts by ID",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			states := []string{records.ContactPending, records.ContactDialing, records.ContactDone, records.ContactSkipped}
			if state != "" && !slices.Contains(states, state) {
				return fmt.Errorf("--state %q: want one of %s", state, strings.Join(states, ", "))
			}
			if limit < 1 || limit > 1000 {
				return fmt.Errorf("--limit %d: want 1 to 1000", limit)
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := getCampaign(ctx, s, args[0]); err != nil {
				return err
			}
			cs, err := s.ListContacts(ctx, args[0], state, after, limit)
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no contacts")
				return nil
			}
			return printContacts(cmd.OutOrStdout(), cs, limit)
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&state, "state", "", "only contacts in this state: pending, dialing, done or skipped")
	cmd.Flags().Int64Var(&after, "after", 0, "only contacts after this ID (the next page)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many (1 to 1000)")
	return cmd
}

func printContacts(w io.Writer, cs []records.Contact, limit int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROW\tNUMBER\tSTATE\tATTEMPTS\tLAST OUTCOME\tNEXT\tAGENT\tSKIPPED BECAUSE")
	for _, k := range cs {
		next := "-"
		if !k.NextAt.IsZero() && k.State == records.ContactPending {
			next = k.NextAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", k.ID, k.Row, k.Number, k.State, k.Attempts,
			orDash(k.LastOutcome), next, orDash(k.Agent), orDash(k.SkipReason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(cs) == limit {
		fmt.Fprintf(w, "more with --after %d\n", cs[len(cs)-1].ID)
	}
	return nil
}
