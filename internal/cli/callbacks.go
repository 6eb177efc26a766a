package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

func newCallbacksScheduleCmd() *cobra.Command {
	var (
		sf                    storeFlag
		tf                    temporalFlags
		queue, number, at, tz string
	)
	cmd := &cobra.Command{
		Use:   "schedule --queue Q --number N [--at 2026-12-08T10:00 --timezone Europe/Paris]",
		Short: "Schedule a callback: at its time it waits for a free agent of the queue, reserves them, then calls the number",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if queue == "" || number == "" {
				return errors.New("--queue and --number are required")
			}
			due, err := routing.CallbackTime(at, tz, time.Now())
			if err != nil {
				return fmt.Errorf("--at %q --timezone %q: %w", at, tz, err)
			}
			ctx := cmd.Context()
			s, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := s.Queue(ctx, queue); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("--queue %q: no such queue (define it with voxflow queues put %s)", queue, queue)
			} else if err != nil {
				return err
			}
			r, closeRouter, err := tf.router(ctx)
			if err != nil {
				return err
			}
			defer closeRouter()
			cb, err := r.RequestCallback(ctx, activities.CallbackRecord{Queue: queue, Number: number, Timezone: tz, DueAt: due})
			if err != nil {
				return routerError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "callback %s scheduled: %s from queue %s at %s\n", cb.ID, cb.Number, cb.Queue,
				cb.DueAt.Local().Format("2006-01-02 15:04 MST"))
			return nil
		},
	}
	sf.register(cmd)
	tf.register(cmd)
	cmd.Flags().StringVar(&queue, "queue", "", "the queue whose agents call back")
	cmd.Flags().StringVar(&number, "number", "", "the number or SIP URI to call")
	cmd.Flags().StringVar(&at, "at", "", "when, in --timezone: 2006-01-02T15:04 (or RFC 3339); empty: as soon as an agent is free")
	cmd.Flags().StringVar(&tz, "timezone", "", "the caller's IANA time zone, like Europe/Paris (default UTC)")
	return cmd
}
