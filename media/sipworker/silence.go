package sipworker

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
)

const (
	// defaultBridgeSilence is how long a bridged conversation may be quiet
	// before a supervisor is alerted.
	defaultBridgeSilence = 30 * time.Second
	// voiceLevel: a frame louder than this is someone speaking (or at
	// least not a dead line).
	voiceLevel = -45.0
)

// silenceWatch notices a bridge where neither party made a sound for
// limit: hear runs on each leg's RTP reader, check on the bridge's ticker.
type silenceWatch struct {
	limit     time.Duration
	lastVoice atomic.Int64 // unix ns
	alerted   bool         // owned by the bridge's loop
}

func newSilenceWatch(limit time.Duration) *silenceWatch {
	w := &silenceWatch{limit: limit}
	w.lastVoice.Store(time.Now().UnixNano())
	return w
}

func (w *silenceWatch) hear(pcm []int16) {
	if w.limit > 0 && audio.LevelDBFS(pcm) > voiceLevel {
		w.lastVoice.Store(time.Now().UnixNano())
	}
}

// check reports a change: the silence has lasted limit, or a party spoke
// again after an alert.
func (w *silenceWatch) check(now time.Time) (activities.BridgeSilence, bool) {
	if w.limit <= 0 {
		return activities.BridgeSilence{}, false
	}
	quiet := now.Sub(time.Unix(0, w.lastVoice.Load()))
	switch {
	case !w.alerted && quiet >= w.limit:
		w.alerted = true
		return activities.BridgeSilence{Silent: true, For: quiet.Round(time.Second)}, true
	case w.alerted && quiet < w.limit:
		w.alerted = false
		return activities.BridgeSilence{Silent: false}, true
	}
	return activities.BridgeSilence{}, false
}

func (w *Worker) bridgeSilence() time.Duration {
	if w.cfg.SignalSilence == nil {
		return -1
	}
	if w.cfg.BridgeSilence == 0 {
		return defaultBridgeSilence
	}
	return w.cfg.BridgeSilence
}

// signalSilence tells the call's workflow, beside the bridge.
func (w *Worker) signalSilence(s *session, ev activities.BridgeSilence) {
	s.log.Info("bridge: silence", "silent", ev.Silent, "for", ev.For)
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), answerSignalTimeout)
		defer cancel()
		if err := w.cfg.SignalSilence(ctx, s.id, ev); err != nil {
			s.log.Warn("bridge: tell the workflow of a silence", "error", err)
		}
	}()
}
