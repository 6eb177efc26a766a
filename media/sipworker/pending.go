package sipworker

import (
	"context"
	"sync"
)

// pendingCalls are inbound calls whose workflow has started before the
// caller was answered: the worker answers only once the call is durable,
// so a worker that dies in between leaves a workflow that recovers the
// call (or records it), never an answered caller nobody knows about. The
// workflow's first activity may come before the answer: it waits here for
// the session.
type pendingCalls struct {
	mu    sync.Mutex
	calls map[string]chan struct{} // by call ID; closed once answered or given up
}

// expect notes a call whose workflow is about to start; done ends the wait
// (after addSession, or when the answer failed).
func (p *pendingCalls) expect(callID string) (done func()) {
	ch := make(chan struct{})
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]chan struct{}{}
	}
	p.calls[callID] = ch
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			delete(p.calls, callID)
			p.mu.Unlock()
			close(ch)
		})
	}
}

// wait blocks while callID is being answered, until ctx ends.
func (p *pendingCalls) wait(ctx context.Context, callID string) error {
	p.mu.Lock()
	ch, ok := p.calls[callID]
	p.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sessionFor is session for an activity: it waits first when the call is
// still being answered.
func (w *Worker) sessionFor(ctx context.Context, callID string) (*session, error) {
	if err := w.pending.wait(ctx, callID); err != nil {
		return nil, err
	}
	return w.session(callID)
}
