package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// On the fast path a dead media worker is reported by the watchdog's
// media-lost signal, not by heartbeats: the running media activity is
// abandoned (its worker will never confirm a cancellation) and the call
// is called back at the menu, as after a heartbeat timeout.
func TestMediaLostSignalCallsBack(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterActivityWithOptions(func(ctx context.Context) (records.MediaWorker, error) {
		return records.MediaWorker{ID: "b", Queue: "media-b"}, nil
	}, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	var queues []string
	var heartbeats []time.Duration
	collects := 0
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			collects++
			info := activity.GetInfo(ctx)
			queues, heartbeats = append(queues, info.TaskQueue), append(heartbeats, info.HeartbeatTimeout)
			if collects == 1 {
				// The worker dies holding the call: the watchdog says so
				// (first about another worker), and whatever this activity
				// says later is ignored.
				go func() {
					h.env.SignalWorkflow(activities.SignalMediaLost, activities.MediaLost{Queue: "media-other"})
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
		t.Errorf("path = %s", got)
	}
	lost := rec.Path[1]
	if lost.Outcome != "callback" || !strings.Contains(lost.Error, "media-lost signal") {
		t.Errorf("lost step = %+v, want a callback on the signal", lost)
	}
	if len(queues) != 2 || queues[0] != h.ch.Queue() || queues[1] != "media-b" {
		t.Errorf("collects ran on %v, want the first worker then the callback's", queues)
	}
	for _, hb := range heartbeats {
		if hb != 0 {
			t.Errorf("media activity heartbeat timeout %s, want none on the fast path", hb)
		}
	}
	if rec.Outcome != records.OutcomeCompleted || rec.Vars["choice"] != "billing" {
		t.Errorf("outcome %s vars %v", rec.Outcome, rec.Vars)
	}
}

// A media-lost signal about another worker's queue changes nothing.
func TestMediaLostOtherQueueIgnored(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.env.SignalWorkflow(activities.SignalMediaLost, activities.MediaLost{Queue: "media-other"})
			}()
			<-done
			time.Sleep(100 * time.Millisecond) // the signal is in the workflow's hands
			return activities.CollectResult{Kind: activities.InputDTMF, Digits: "1"}, nil
		})
	rec := h.run(menuFlow)
	if got := path(rec); got != "hello>menu>sales>bye" || rec.Outcome != records.OutcomeCompleted {
		t.Errorf("path %s outcome %s, want the caller's choice", got, rec.Outcome)
	}
}

// A media-lost signal that arrives while no media activity runs (here
// during a wait) fails the next media step at once, with no ten-second
// wait for a worker that will never poll.
func TestMediaLostBetweenActivities(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterActivityWithOptions(func(ctx context.Context) (records.MediaWorker, error) {
		return records.MediaWorker{ID: "b", Queue: "media-b"}, nil
	}, activity.RegisterOptions{Name: activities.ActPickMediaWorker})
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(activities.SignalMediaLost, activities.MediaLost{Queue: h.ch.Queue()})
	}, time.Second)
	var queues []string
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
			queues = append(queues, activity.GetInfo(ctx).TaskQueue)
			return activities.CollectResult{Kind: activities.InputDTMF, Digits: "1"}, nil
		})
	rec := h.run(strings.Replace(menuFlow, "    next: menu\n", "    next: pause\n  pause:\n    type: wait\n    duration: 5s\n    next: menu\n", 1))
	if len(queues) != 1 || queues[0] != "media-b" {
		t.Errorf("collects ran on %v, want only the callback's worker", queues)
	}
	if got := path(rec); got != "hello>pause>menu>menu>sales>bye" {
		t.Errorf("path = %s", got)
	}
	if lost := rec.Path[2]; lost.Outcome != "callback" || lost.LeftAt.Sub(lost.EnteredAt) > 4*time.Second {
		t.Errorf("lost step = %+v, want an immediate callback", lost)
	}
}

// A media activity whose task never reached the call's worker (failed as
// MediaTaskLost by that worker) is run again, on the same worker, and the
// call goes on as if nothing happened; a third loss in a row is an error
// of the step.
func TestMediaTaskLostRunsAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		losses int
		path   string
	}{
		{"once", 1, "hello>menu>billing>bye"},
		{"twice", 2, "hello>menu>billing>bye"},
		{"three times: the step fails", 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			collects := 0
			h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
					collects++
					if collects <= tc.losses {
						return activities.CollectResult{}, activities.NewMediaTaskLost("5")
					}
					return activities.CollectResult{Kind: activities.InputDTMF, Digits: "2"}, nil
				})
			rec := h.run(menuFlow)
			if tc.path == "" {
				if collects != 3 || rec.Outcome == records.OutcomeCompleted || !strings.Contains(rec.Path[1].Error, "not running it") {
					t.Errorf("collects %d, outcome %s, step %+v: want 3 runs and the menu step failed as lost", collects, rec.Outcome, rec.Path[1])
				}
				return
			}
			if got := path(rec); got != tc.path {
				t.Errorf("path = %s, want %s", got, tc.path)
			}
			if collects != tc.losses+1 || rec.Outcome != records.OutcomeCompleted {
				t.Errorf("collects %d outcome %s, want %d and completed", collects, rec.Outcome, tc.losses+1)
			}
		})
	}
}
