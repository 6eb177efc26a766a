package sipworker

import (
	"context"
	"time"

	"github.com/voxflow/voxflow/media/audio"
)

// detectMachine listens to the first seconds of an answered outbound call
// and tells who answered: a person ("Hello?", then waiting) or an answering
// machine (a long greeting). Unknown when the analysis ends undecided.
func (s *session) detectMachine(ctx context.Context) (answeredBy, reason string) {
	ctx, cancel := s.bind(ctx) // the callee hanging up ends it too
	defer cancel()
	d := audio.NewMachineDetector(audio.MachineConfig{})
	decided := make(chan struct{}, 1)
	untap := s.tap(func(pcm []int16) {
		// Taps run on the playout goroutine only: d needs no lock.
		if d.Process(pcm) != "" {
			select {
			case decided <- struct{}{}:
			default:
			}
		}
	})
	// The detector decides within its analysis time of audio; the margin
	// covers the jitter buffer's delay.
	t := time.NewTimer(6 * time.Second)
	defer t.Stop()
	select {
	case <-decided:
	case <-t.C:
	case <-ctx.Done():
	}
	untap()
	if by, why := d.Decision(); by != "" {
		return by, why
	}
	return audio.AnsweredUnknown, "no decision"
}
