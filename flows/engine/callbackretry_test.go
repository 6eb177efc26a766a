package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// A media worker restarting under the dead one's ID (voxflow dev after a
// kill -9) reports itself a moment after the media-lost signals: the
// callback waits for it rather than failing, and goes through the same
// queue. The second signal about the dead process (its restart and the
// watchdog both send one) must not fail the callback's media: the call is
// called back once and goes on.
func TestCallbackWaitsForRestartedWorker(t *testing.T) {
	h := newHarness(t)
	picks := 0
	h.env.RegisterActivityWithOptions(func(ctx context.Context) (records.MediaWorker, error) {
		if picks++; picks <= 2 {
			return records.MediaWorker{}, temporal.NewNonRetryableApplicationError("no live media worker", activities.ErrTypeNoMediaWorker, nil)
		}
		return records.MediaWorker{ID: "test", Queue: h.ch.Queue()}, nil
	}, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	var queues []string
	collects := 0
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			collects++
			queues = append(queues, activity.GetInfo(ctx).TaskQueue)
			if collects == 1 {
				go func() {
					h.env.SignalWorkflow(activities.SignalMediaLost, activities.MediaLost{Queue: h.ch.Queue()})
					h.env.SignalWorkflow(activities.SignalMediaLost, activities.MediaLost{Queue: h.ch.Queue()})
				}()
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
				return activities.CollectResult{Kind: activities.InputDTMF, Digits: "1"}, nil
			}
			return activities.CollectResult{Kind: activities.InputDTMF, Digits: "2"}, nil
		})
	rec := h.run(menuFlow)
	if got := path(rec); got != "hello>menu>menu>billing>bye" {
		t.Errorf("path = %s, want one callback back to the menu", got)
	}
	if lost := rec.Path[1]; lost.Outcome != "callback" || !strings.Contains(lost.Error, "media-lost signal") {
		t.Errorf("lost step = %+v, want a callback on the signal", lost)
	}
	if picks != 3 || len(queues) != 2 || queues[1] != h.ch.Queue() {
		t.Errorf("%d picks, collects on %v: want the third pick to find the restarted worker", picks, queues)
	}
	if rec.Outcome != records.OutcomeCompleted {
		t.Errorf("outcome %s, want completed", rec.Outcome)
	}
}
