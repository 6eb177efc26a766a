package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

func newPrivacyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "privacy",
		Short: "Callers' data: erase everything kept about a number",
	}
	cmd.AddCommand(newPrivacyEraseCmd())
	return cmd
}

// eraseOpts are the flags of `privacy erase`.
type eraseOpts struct {
	number                         string
	dry, verbose, asJSON, noTempor bool
}

func newPrivacyEraseCmd() *cobra.Command {
	var (
		sf storeFlag
		tf temporalFlags
		o  eraseOpts
	)
	cmd := &cobra.Command{
		Use:   "erase --number +15551234567 [--dry-run] [--verbose]",
		Short: "Erase a caller: CDRs, call events, transcripts, recordings, callbacks, campaign rows and closed workflow histories",
		Long: `Erases what voxflow keeps about one phone number, in every form it may be
stored in (+1555..., 1555..., 001555..., tel:+1555..., and a NANP number
without its +1): the call records where it is the caller or the callee,
those calls' events and chat transcripts, the recordings the records name
(when this machine reaches the file: the others are listed), callbacks,
campaign contacts and dial attempts, and the Temporal histories of those
calls (closed runs, through DeleteWorkflowExecution).

Not erased: do-not-call entries (keeping a number off the dialer is a legal
duty), calls still in progress (listed: erase again after they end), and
backups of the database or of Temporal. --dry-run only counts.

The erase (privacy.erase) and a dry run (privacy.erase_dry_run) are written
to the store's audit log with the number masked (+1555***4567).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(o.number) == "" {
				return usageError{cmd, fmt.Errorf("--number is required")}
			}
			if !cmd.Flags().Changed("store") && os.Getenv("VOXFLOW_STORE") != "" {
				sf.dsn = os.Getenv("VOXFLOW_STORE")
			}
			return runErase(cmd, &sf, &tf, o)
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	cmd.Flags().StringVar(&o.number, "number", "", "the caller's phone number (E.164: +15551234567)")
	cmd.Flags().BoolVar(&o.dry, "dry-run", false, "print what would be erased; remove nothing")
	cmd.Flags().BoolVar(&o.verbose, "verbose", false, "list the call IDs and recordings")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	cmd.Flags().BoolVar(&o.noTempor, "skip-temporal", false, "leave Temporal histories alone (when Temporal is not reachable)")
	return cmd
}

func runErase(cmd *cobra.Command, sf *storeFlag, tf *temporalFlags, o eraseOpts) error {
	ctx := cmd.Context()
	s, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var c client.Client
	if !o.noTempor {
		if c, err = tf.dial(); err != nil {
			return fmt.Errorf("%w (or --skip-temporal to erase the store and recordings only)", err)
		}
		defer c.Close()
	}
	r, err := platform.EraseNumber(ctx, c, tf.namespace, s, o.number, o.dry)
	if r.Counts != nil { // a partial erase (store done, Temporal not) is audited too
		auditErase(cmd, sf, r, c == nil)
	}
	if o.asJSON && (err == nil || r.Counts != nil) {
		if jerr := printJSON(cmd.OutOrStdout(), r); jerr != nil {
			return jerr
		}
	} else if r.Counts != nil {
		printErase(cmd.OutOrStdout(), r, o, c != nil)
	}
	return err
}

// auditErase writes the erase's audit entry, as the API does: the number
// masked, counts only.
func auditErase(cmd *cobra.Command, sf *storeFlag, r platform.EraseReport, noTemporal bool) {
	action := designerapi.AuditPrivacyErase
	if r.DryRun {
		action = designerapi.AuditPrivacyEraseDryRun
	}
	d := designerapi.ErasureAuditDetails(designerapi.ErasureReport{DryRun: r.DryRun, Counts: r.Counts, CallIDs: r.CallIDs,
		Unreachable: r.Unreachable, Running: r.Running, TemporalSkipped: noTemporal})
	auditCLI(cmd.Context(), *sf, cmd.ErrOrStderr(), action, designerapi.MaskNumber(r.Number), d)
}

// eraseKinds are the report's rows in order, with their labels.
var eraseKinds = []struct{ kind, label string }{
	{store.KindCDRs, "call records (CDR runs)"},
	{store.KindCallEvents, "call events"},
	{store.KindChatTranscripts, "chat transcripts"},
	{platform.KindRecordings, "recordings"},
	{store.KindCallbacks, "callbacks"},
	{store.KindContacts, "campaign contacts"},
	{store.KindAttempts, "campaign attempts"},
	{platform.KindWorkflows, "workflow runs (histories)"},
}

func printErase(w io.Writer, r platform.EraseReport, o eraseOpts, temporal bool) {
	verb := "erased"
	if r.DryRun {
		verb = "would erase (dry run: nothing removed)"
	}
	fmt.Fprintf(w, "%s for %s (%d calls):\n", verb, r.Number, len(r.CallIDs))
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	for _, k := range eraseKinds {
		if k.kind == platform.KindWorkflows && !temporal {
			fmt.Fprintf(tw, "  %s\tskipped (--skip-temporal)\n", k.label)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\n", k.label, r.Counts[k.kind])
	}
	tw.Flush()
	if n := r.Counts[store.KindDNCKept]; n > 0 {
		fmt.Fprintf(w, "kept: %d do-not-call entries: keeping a number on do-not-call is a legal duty, so they are never erased\n", n)
	}
	if len(r.Running) > 0 {
		fmt.Fprintf(w, "running calls, not touched (erase again after they end, or end them first): %s\n", strings.Join(r.Running, ", "))
	}
	unreachable := slices.Sorted(func(yield func(string) bool) {
		for p := range r.Unreachable {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range unreachable {
		fmt.Fprintf(w, "recording not reached: %s: %s (delete it on the media worker that wrote it)\n", p, r.Unreachable[p])
	}
	if o.verbose {
		for _, id := range r.CallIDs {
			fmt.Fprintf(w, "call %s\n", id)
		}
		for _, p := range r.Recordings {
			fmt.Fprintf(w, "recording %s\n", p)
		}
	}
	fmt.Fprintln(w, "not erased: database and Temporal backups, and logs already shipped elsewhere")
}
