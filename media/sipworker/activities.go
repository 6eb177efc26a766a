package sipworker

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
)

// Defaults for collect when the request leaves them out.
const (
	defaultInputTimeout = 5 * time.Second
	defaultInterDigit   = 3 * time.Second
	heartbeatEvery      = 2 * time.Second
)

// heartbeat records an activity heartbeat now and every heartbeatEvery until
// the returned stop is called, for activities that have a heartbeat timeout:
// calls started before the engine's fast path (10 s timeout; five beats per
// timeout). Calls on the fast path have none: the worker's registry row
// tells its liveness, so a held call costs no request to the server.
// Outside an activity (tests) it does nothing.
func heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) || activity.GetInfo(ctx).HeartbeatTimeout <= 0 {
		return func() {}
	}
	activity.RecordHeartbeat(ctx)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// result maps an activity's error once the call is gone to CallGone.
func (s *session) result(err error) error {
	if s.gone() {
		return activities.NewCallGone(s.id)
	}
	return err
}

// say plays prompts in order. With bargeIn a queued key press stops them
// (the key stays queued for the next collect).
func (w *Worker) say(ctx context.Context, s *session, prompts []activities.Prompt, bargeIn bool) (interrupted bool, err error) {
	var stop func() bool
	if bargeIn {
		stop = s.hasDigit
	}
	return w.sayUntil(ctx, s, prompts, stop)
}

// sayUntil plays prompts in order until stop (nil: never) reports true;
// stop is checked when a prompt starts and on each s.digitSig. A
// speculation already playing these prompts is adopted; any other is
// stopped first (speculate.go).
func (w *Worker) sayUntil(ctx context.Context, s *session, prompts []activities.Prompt, stop func() bool) (interrupted bool, err error) {
	if sp := s.swapSpeculation(nil); sp != nil {
		if slices.Equal(sp.prompts, prompts) {
			return sp.adopt(ctx, stop)
		}
		sp.abandon()
	}
	return w.playPrompts(ctx, s, prompts, stop)
}

// playPrompts renders and plays prompts in order until stop reports true.
func (w *Worker) playPrompts(ctx context.Context, s *session, prompts []activities.Prompt, stop func() bool) (interrupted bool, err error) {
	for _, p := range prompts {
		if stop != nil && stop() {
			return true, nil
		}
		pcm, err := w.prompts.render(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, fmt.Errorf("prompt of node %s: %w", p.Node, err)
		}
		interrupted, err := s.playPCM(ctx, pcm, stop)
		if err != nil || interrupted {
			return interrupted, err
		}
	}
	return false, nil
}

// Play plays prompts to the caller (activities.Channel).
func (w *Worker) Play(ctx context.Context, in activities.PlayInput) error {
	s, err := w.sessionFor(ctx, in.CallID)
	if err != nil {
		return err
	}
	defer heartbeat(ctx)()
	ctx, cancel := s.bind(ctx)
	defer cancel()
	_, err = w.say(ctx, s, in.Prompts, in.BargeIn)
	return s.result(err)
}

// Collect is one caller turn: prompts, then keys or speech
// (activities.Channel). A call in early media is answered first.
func (w *Worker) Collect(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
	s, err := w.answeredSession(ctx, in.CallID) // early media: answer first
	if err != nil {
		return activities.CollectResult{}, err
	}
	if len(in.Terminator) > 1 {
		return activities.CollectResult{}, activities.NewBadInput(fmt.Errorf("collect: terminator %q is not one key", in.Terminator))
	}
	defer heartbeat(ctx)()
	ctx, cancel := s.bind(ctx)
	defer cancel()
	l, err := w.promptAndListen(ctx, s, in) // listens for speech when phrases or free speech are expected
	defer l.stop()
	if err != nil {
		return activities.CollectResult{}, s.result(err)
	}
	res, err := s.gather(ctx, in, l)
	if err == nil && res.Kind == activities.InputDTMF && len(in.Then[res.Digits]) > 0 {
		w.speculate(s, in.Then[res.Digits])
	}
	return res, s.result(err)
}

// gather waits for key presses: up to MaxDigits (0: no limit), ended early
// by the terminator (not included) or by the inter-digit timeout once a key
// was pressed; with no key at all before Timeout the result is a timeout.
// With a listener (phrases or free speech expected) speech that starts
// before a key holds off the timeout, and its end is recognised (or
// transcribed) into a speech result.
func (s *session) gather(ctx context.Context, in activities.CollectInput, l *listener) (activities.CollectResult, error) {
	first, inter := in.Timeout, in.InterDigitTimeout
	if first <= 0 {
		first = defaultInputTimeout
	}
	if inter <= 0 {
		inter = defaultInterDigit
	}
	var digits []rune
	done := func() activities.CollectResult {
		return activities.CollectResult{Kind: activities.InputDTMF, Digits: string(digits)}
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	speechStarted := l.startedC()
	for {
		got := false
		for {
			d, ok := s.popDigit()
			if !ok {
				break
			}
			if in.Terminator != "" && string(d) == in.Terminator {
				return done(), nil
			}
			digits = append(digits, d)
			got = true
			if in.MaxDigits > 0 && len(digits) >= in.MaxDigits {
				return done(), nil
			}
		}
		if got {
			timer.Reset(inter)
		}
		select {
		case <-s.digitSig:
		case <-speechStarted:
			speechStarted = nil
			if len(digits) == 0 {
				timer.Stop() // the caller is talking: wait for the end
			}
		case u := <-l.endedC():
			if len(digits) > 0 {
				return done(), nil
			}
			return s.recognise(ctx, in, u)
		case <-timer.C:
			if len(digits) == 0 {
				return activities.CollectResult{Kind: activities.InputTimeout}, nil
			}
			return done(), nil
		case <-ctx.Done():
			return activities.CollectResult{}, ctx.Err()
		}
	}
}

// Hangup says the last prompts and hangs up (activities.Channel); a call
// already gone is not an error.
func (w *Worker) Hangup(ctx context.Context, in activities.HangupInput) error {
	s, err := w.sessionFor(ctx, in.CallID)
	if err != nil {
		return nil // already gone: hanging up twice is fine
	}
	defer heartbeat(ctx)()
	pctx, cancel := s.bind(ctx)
	if _, err := w.say(pctx, s, in.Prompts, false); err != nil && !s.gone() {
		s.log.Warn("hangup prompts", "error", err)
	}
	cancel()
	s.stop(endLocal)
	select {
	case <-s.done:
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	return nil
}
