package sipworker

import (
	"context"
	"sync"
	"time"
)

// hangUpOrphans hangs up calls whose workflow has ended without hanging
// them up, every OrphanCheck until ctx ends. That happens when an operator
// terminates a call's workflow, or when the engine gave this worker up as
// lost (a heartbeat or schedule-to-start timeout under overload) and ended
// the call elsewhere: without this the caller would sit in silence until
// they hang up. Calls with a media activity running, calls idle for less
// than one interval and bridge legs (owned by their call) are left alone.
func (w *Worker) hangUpOrphans(ctx context.Context) {
	t := time.NewTicker(w.cfg.OrphanCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.checkEnded(ctx)
		for _, s := range w.idleCalls(time.Now().Add(-w.cfg.OrphanCheck)) {
			cctx, cancel := context.WithTimeout(ctx, w.cfg.TemporalTimeout)
			closed, err := w.cfg.CallClosed(cctx, s.id)
			cancel()
			switch {
			case err != nil:
				s.log.Debug("orphan check", "error", err)
			case closed && s.activities.Load() == 0 && !s.gone():
				s.log.Warn("the call's workflow has ended but the call is still up: hanging up")
				s.stop(endLocal)
			case !closed:
				w.failLostTasks(ctx, s)
			}
		}
	}
}

// failLostTasks fails the media activities of an idle call that Temporal
// says started more than one OrphanCheck ago: this worker holds the call
// and runs none of them, so either their task never reached it or its
// answer never reached Temporal (the SDK gives up retrying a completion
// while the history service is down: seen in chaos runs). Either way the
// step's outcome is lost and only running it again moves the call on.
func (w *Worker) failLostTasks(ctx context.Context, s *session) {
	if w.cfg.FailLostTasks == nil {
		return
	}
	before := time.Now().Add(-w.cfg.OrphanCheck)
	cctx, cancel := context.WithTimeout(ctx, w.cfg.TemporalTimeout)
	n, err := w.cfg.FailLostTasks(cctx, s.id, time.Time{}, before)
	cancel()
	switch {
	case err != nil:
		s.log.Debug("lost task check", "error", err)
	case n > 0:
		s.log.Warn("media activities marked started are not running here: failed them as lost, the flow runs them again", "activities", n)
	}
}

// idleCalls are the live calls (not bridge legs) whose workflow started,
// with no media activity running since before idleBefore.
func (w *Worker) idleCalls(idleBefore time.Time) []*session {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*session
	for _, s := range w.sessions {
		// A cause is set once the call is on its way out (a blind
		// transfer settling): not an orphan.
		if s.leg || s.gone() || s.cause.Load() != 0 || s.activities.Load() > 0 || s.idleSince.Load() > idleBefore.UnixNano() {
			continue
		}
		select {
		case <-s.launched:
			if s.startErr == nil {
				out = append(out, s)
			}
		default: // the workflow is still being started
		}
	}
	return out
}

// maxEndedChecks bounds the calls waiting for their after-end check; past
// it (a burst of ends) the newest are not checked.
const maxEndedChecks = 20_000

// endedCalls are calls that ended here: each workflow is asked once, an
// OrphanCheck after the end, whether it has ended too. The last media
// step of a call we hung up (its BYE sent, the session gone) can have its
// completion lost while Temporal's history or frontend restarts; the
// workflow would wait on it for its whole start-to-close timeout, with no
// session left here to notice.
type endedCalls struct {
	mu    sync.Mutex
	calls []endedCall
}

type endedCall struct {
	id string
	at time.Time
}

func (e *endedCalls) add(id string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.calls) < maxEndedChecks {
		e.calls = append(e.calls, endedCall{id, at})
	}
}

// due takes the calls that ended before t (they are in order of ending).
func (e *endedCalls) due(t time.Time) []endedCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for n < len(e.calls) && e.calls[n].at.Before(t) {
		n++
	}
	out := append([]endedCall(nil), e.calls[:n]...)
	e.calls = append(e.calls[:0], e.calls[n:]...)
	return out
}

// checkEnded fails the lost media steps of calls that ended here more
// than an OrphanCheck ago while their workflow still runs.
func (w *Worker) checkEnded(ctx context.Context) {
	for _, c := range w.ended.due(time.Now().Add(-w.cfg.OrphanCheck)) {
		cctx, cancel := context.WithTimeout(ctx, w.cfg.TemporalTimeout)
		closed, err := w.cfg.CallClosed(cctx, c.id)
		if err == nil && !closed {
			var n int
			if n, err = w.cfg.FailLostTasks(cctx, c.id, time.Time{}, c.at); n > 0 {
				w.log.Warn("a call that ended here still waits on media steps: failed them as lost", "call_id", c.id, "activities", n)
			}
		}
		cancel()
		if err != nil {
			w.log.Debug("ended call check", "call_id", c.id, "error", err)
		}
	}
}
