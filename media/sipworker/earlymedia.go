package sipworker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
)

// Early media: a flow with settings.early_media gets 183 Session Progress
// with our SDP instead of 200 OK. Media runs and the workflow starts at
// once, so play prompts are heard before the call is answered; the first
// activity that needs the caller (collect, record, transfer) answers it
// with answeredSession. A hangup before that rejects the INVITE with 480:
// a "we are closed" announcement is never answered, nor billed.

// earlyState is the answer state of an inbound call started in early media.
type earlyState struct {
	mu       sync.Mutex
	answered bool
	opts     diago.AnswerOptions
	since    time.Time
}

// answeredSession is session for activities that need the caller: a call
// still in early media is answered (200 OK) first.
func (w *Worker) answeredSession(ctx context.Context, callID string) (*session, error) {
	s, err := w.sessionFor(ctx, callID)
	if err != nil {
		return nil, err
	}
	if err := s.ensureAnswered(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ensureAnswered sends 200 OK (the SDP of the 183) for a call in early
// media and waits for the ACK; it does nothing once answered.
func (s *session) ensureAnswered(ctx context.Context) error {
	e := s.early
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.answered {
		return nil
	}
	if s.gone() {
		return activities.NewCallGone(s.id)
	}
	defer heartbeat(ctx)() // the ACK may take a few retransmissions
	if err := s.d.AnswerEarlyMedia(s.med, e.opts); err != nil {
		if s.gone() || s.d.Context().Err() != nil {
			return activities.NewCallGone(s.id)
		}
		return fmt.Errorf("answer call after early media: %w", err)
	}
	e.answered = true
	s.log.Info("call answered", "early_media", time.Since(e.since).Round(time.Millisecond))
	return nil
}

// answered reports whether the caller got 200 OK.
func (s *session) answered() bool {
	e := s.early
	if e == nil {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.answered
}

// hangupInbound ends an inbound call: BYE once answered, else (early
// media) a final 480 Temporarily Unavailable to the INVITE.
func (s *session) hangupInbound(ctx context.Context) error {
	if e := s.early; e != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !e.answered {
			s.log.Info("call ended before answer", "code", sip.StatusTemporarilyUnavailable)
			return s.d.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		}
	}
	return s.d.Hangup(ctx)
}
