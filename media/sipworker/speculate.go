package sipworker

import (
	"context"
	"sync/atomic"

	"github.com/voxflow/voxflow/activities"
)

// A caller turn without a round trip: a collect's CollectInput.Then says,
// per expected key, the prompts the workflow's next media activity will
// begin with. When such a key arrives the worker starts those prompts at
// once, as a speculation, and the workflow catches up; its next activity
// adopts the speculation when its prompts are the same (playback goes on
// untouched, barge-in applies from then on) and stops it otherwise. The
// workflow computed the prompts itself, so it stays the authority.

// speculation is playback started ahead of the activity that wants it.
type speculation struct {
	prompts []activities.Prompt
	cancel  context.CancelFunc
	done    chan struct{}
	// stop is the barge-in test of the activity that adopted it; until
	// then key presses are only queued.
	stop        atomic.Pointer[func() bool]
	interrupted bool  // set before done is closed
	err         error // set before done is closed
}

// speculate starts playing ps on s ahead of the next activity, replacing
// any older speculation.
func (w *Worker) speculate(s *session, ps []activities.Prompt) {
	ctx, cancel := context.WithCancel(s.ctx)
	sp := &speculation{prompts: ps, cancel: cancel, done: make(chan struct{})}
	if old := s.swapSpeculation(sp); old != nil {
		old.abandon()
	}
	stop := func() bool {
		f := sp.stop.Load()
		return f != nil && (*f)()
	}
	go func() {
		defer close(sp.done)
		defer cancel()
		sp.interrupted, sp.err = w.playPrompts(ctx, s, ps, stop)
	}()
}

// swapSpeculation sets s's speculation and returns the one it replaces.
func (s *session) swapSpeculation(sp *speculation) *speculation {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	old := s.spec
	s.spec = sp
	return old
}

// abandon stops the speculation and waits until it no longer plays.
func (sp *speculation) abandon() {
	sp.cancel()
	<-sp.done
}

// adopt makes the speculation the activity's own playback: it ends when
// the prompts end or, with stop, on barge-in; ctx ending stops it.
func (sp *speculation) adopt(ctx context.Context, stop func() bool) (interrupted bool, err error) {
	if stop != nil {
		sp.stop.Store(&stop)
		if stop() { // a key arrived before the activity did
			sp.abandon()
			return true, nil
		}
	}
	select {
	case <-sp.done:
		return sp.interrupted, sp.err
	case <-ctx.Done():
		sp.abandon()
		return false, ctx.Err()
	}
}
