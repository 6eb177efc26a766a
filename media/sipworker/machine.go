package sipworker

import (
	"context"
	"time"

	"github.com/voxflow/voxflow/media/audio"
)

const (
	// machineDecisionWait bounds the wait for a decision: the detector
	// decides within its analysis time of audio (5 s); the margin covers
	// the jitter buffer's delay.
	machineDecisionWait = 6 * time.Second
	// greetingCap bounds, from the answer, the wait for a machine's
	// greeting to end (AwaitBeep): a machine that talks on is left to the
	// flow.
	greetingCap = 20 * time.Second
)

// machineAnswer is what listening to the callee's greeting told.
type machineAnswer struct {
	by, why string
	// greetingEnd is when the greeting ended, as heard (zero: unknown):
	// a person's last word, or a machine's beep or the start of the quiet
	// after its greeting.
	greetingEnd time.Time
	beep        bool
}

// detectMachine listens to the first seconds of an answered outbound call
// and tells who answered: a person ("Hello?", then waiting) or an answering
// machine (a long greeting, or a beep). Unknown when the analysis ends
// undecided. With awaitBeep, a machine is listened to until its greeting
// ends (its beep, or quiet), or greetingCap after answeredAt.
func (s *session) detectMachine(ctx context.Context, answeredAt time.Time, awaitBeep bool) machineAnswer {
	ctx, cancel := s.bind(ctx) // the callee hanging up ends it too
	defer cancel()
	d := audio.NewMachineDetector(audio.MachineConfig{AwaitBeep: awaitBeep, GreetingCapMs: int(greetingCap / time.Millisecond)})
	// heard is the audio fed so far (ms) and fedAt when its last frame
	// was: frames arrive in real time, so audio heard m ms before the last
	// frame ended was heard m ms before fedAt.
	var heard int
	var fedAt time.Time
	done := make(chan struct{}, 1)
	untap := s.tap(func(pcm []int16) {
		// Taps run on the playout goroutine only, and untap waits for a
		// running one: d, heard and fedAt need no lock.
		d.Process(pcm)
		heard += len(pcm) * 1000 / audio.Rate
		fedAt = time.Now()
		if d.Done() {
			select {
			case done <- struct{}{}:
			default:
			}
		}
	})
	wait := machineDecisionWait
	if awaitBeep {
		wait = max(wait, time.Until(answeredAt.Add(greetingCap)))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	untap()
	by, why := d.Decision()
	if by == "" {
		return machineAnswer{by: audio.AnsweredUnknown, why: "no decision"}
	}
	res := machineAnswer{by: by, why: why}
	if end, beep, ok := d.GreetingEnd(); ok {
		res.greetingEnd = fedAt.Add(-time.Duration(heard-end) * time.Millisecond)
		res.beep = beep
	}
	return res
}
