package sipworker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// A call whose workflow ended without hanging up (terminated, or given up
// as media-lost) is hung up by the worker; while the workflow runs, an idle
// call is left alone.
func TestOrphanedCallHungUp(t *testing.T) {
	var closedAt atomic.Int64 // unix ns when the "workflow" ended; 0 while it runs
	var checks atomic.Int32
	ended := make(chan time.Time, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 { // SIPp's two keys; then it waits for a BYE
			if _, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second}); err != nil {
				t.Errorf("collect: %v", err)
			}
		}
		checksBefore := checks.Load()
		s, err := w.sessionFor(ctx, call.CallID)
		if err != nil {
			t.Error(err)
			return
		}
		// Idle with the workflow running: checked, not hung up.
		for checks.Load() < checksBefore+2 {
			time.Sleep(20 * time.Millisecond)
		}
		if s.gone() {
			t.Error("an idle call with a running workflow was hung up")
		}
		// The workflow ends without a hangup activity.
		closedAt.Store(time.Now().UnixNano())
		<-s.done
		ended <- time.Now()
	}, func(c *Config) {
		c.OrphanCheck = 200 * time.Millisecond
		c.CallClosed = func(ctx context.Context, callID string) (bool, error) {
			checks.Add(1)
			return closedAt.Load() != 0, nil
		}
	})
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000")) // passes only on our BYE
	if at := <-ended; at.UnixNano() < closedAt.Load() {
		t.Errorf("the call ended before its workflow did")
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.hangups) != 0 {
		t.Errorf("our own hangup was signalled as the caller's: %v", r.hangups)
	}
}

// An idle call whose workflow runs is asked about lost tasks started more
// than one check ago (whenever: a completion can be lost too), and a
// task failed as lost lets the flow go on (here: the script's second
// collect stands for the run again).
func TestIdleCallLostTasksFailed(t *testing.T) {
	type ask struct {
		callID        string
		after, before time.Time
	}
	asked := make(chan ask, 16)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		if _, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second}); err != nil {
			t.Errorf("collect: %v", err)
		}
		a := <-asked // idle: the worker asks about the call
		if a.callID != call.CallID || !a.after.IsZero() || time.Since(a.before) < 200*time.Millisecond {
			t.Errorf("asked %+v: want this call, any start before one check ago", a)
		}
		if _, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second}); err != nil {
			t.Errorf("collect: %v", err)
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.OrphanCheck = 200 * time.Millisecond
		c.CallClosed = func(context.Context, string) (bool, error) { return false, nil }
		c.FailLostTasks = func(_ context.Context, callID string, after, before time.Time) (int, error) {
			select {
			case asked <- ask{callID, after, before}:
			default:
			}
			return 1, nil
		}
	})
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	r.waitIdle()
}

// A call we hung up is checked once, an OrphanCheck after it ended: its
// workflow still running, the media steps started before the end are
// failed as lost (their completion may have been lost with Temporal's
// history service); a workflow that has ended is left alone.
func TestEndedCallCheckedOnce(t *testing.T) {
	type ask struct {
		callID string
		before time.Time
	}
	asked := make(chan ask, 16)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 { // SIPp's two keys, then our BYE
			_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.OrphanCheck = 200 * time.Millisecond
		c.CallClosed = func(context.Context, string) (bool, error) { return false, nil }
		c.FailLostTasks = func(_ context.Context, callID string, after, before time.Time) (int, error) {
			asked <- ask{callID, before}
			return 1, nil
		}
	})
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	ended := time.Now()
	r.waitIdle()
	var a ask
	select {
	case a = <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the ended call's workflow was never checked")
	}
	r.mu.Lock()
	id := r.started[0].CallID
	r.mu.Unlock()
	if a.callID != id || a.before.After(ended) {
		t.Errorf("asked %+v: want call %s, steps started before it ended (%s)", a, id, ended)
	}
	time.Sleep(time.Second) // five more checks: the call is not asked about again
	if len(asked) != 0 {
		t.Errorf("the ended call was checked %d more times, want once", len(asked))
	}
}
