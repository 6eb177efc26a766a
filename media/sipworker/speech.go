package sipworker

import (
	"context"
	"sync"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
)

// Speech input: while a collect that expects phrases runs, an energy-based
// voice activity detector listens to the caller's decoded audio next to
// the DTMF detectors. The start of speech barges in on the prompt (when
// barge-in is on) and holds off the no-input timeout; the end of speech
// (speechSilence of quiet, or speechMax of talking) hands the utterance
// to the worker's recogniser (Config.ASR).
const (
	speechThresholdDBFS = -40
	speechMinMs         = 100 // sound this long starts speech (clicks do not)
	speechSilence       = 700 * time.Millisecond
	speechMax           = 8 * time.Second
	// speechPreroll of audio before the detected start and speechTail
	// of the closing silence go to the recogniser with the speech.
	speechPreroll = 300 * time.Millisecond
	speechTail    = 200 * time.Millisecond
)

// listener collects one utterance of the caller. Its methods work on a
// nil listener (no speech expected): the channels are nil and never ready.
type listener struct {
	s     *session
	vad   *audio.SilenceDetector
	untap func()

	mu       sync.Mutex
	pcm      []int16 // audio from stream offset base on
	base     int64
	startAt  int64 // stream offset of the speech start; -1 before it
	speaking bool
	finished bool

	started chan struct{} // closed when speech starts
	ended   chan utterance
}

type utterance struct {
	pcm []int16
	at  time.Time // when the end of speech was detected
}

// listen starts listening for speech when the collect expects phrases and
// the worker has a recogniser; nil otherwise.
func (w *Worker) listen(s *session, in activities.CollectInput) *listener {
	if len(in.Phrases) == 0 || w.cfg.ASR == nil {
		return nil
	}
	l := &listener{
		s: s,
		vad: audio.NewSilenceDetector(audio.SilenceConfig{
			ThresholdDBFS: speechThresholdDBFS, MinSpeechMs: speechMinMs,
			SilenceMs: int(speechSilence / time.Millisecond), NoInputMs: -1,
		}),
		startAt: -1,
		started: make(chan struct{}),
		ended:   make(chan utterance, 1),
	}
	l.untap = s.tap(l.feed)
	return l
}

// stop stops listening.
func (l *listener) stop() {
	if l != nil {
		l.untap()
	}
}

// startedC is closed when the caller starts speaking.
func (l *listener) startedC() <-chan struct{} {
	if l == nil {
		return nil
	}
	return l.started
}

// endedC delivers the utterance once the caller stops speaking.
func (l *listener) endedC() <-chan utterance {
	if l == nil {
		return nil
	}
	return l.ended
}

// inSpeech reports whether the caller has started speaking (barge-in).
func (l *listener) inSpeech() bool {
	if l == nil {
		return false
	}
	select {
	case <-l.started:
		return true
	default:
		return false
	}
}

// feed runs on the media clock with each 20 ms of audio.
func (l *listener) feed(pcm []int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	l.pcm = append(l.pcm, pcm...)
	for _, ev := range l.vad.Process(pcm) {
		switch ev.Type {
		case audio.SpeechStart:
			if l.startAt < 0 {
				l.startAt = ev.At
				close(l.started)
				// Wake a prompt playing with barge-in (playPCM rechecks
				// its stop function on this signal).
				select {
				case l.s.digitSig <- struct{}{}:
				default:
				}
			}
			l.speaking = true
		case audio.SpeechEnd:
			l.finish(ev.At + samples(speechTail))
			return
		}
	}
	end := l.base + int64(len(l.pcm))
	switch {
	case l.speaking && end-l.startAt >= samples(speechMax):
		l.finish(end)
	case !l.speaking:
		// Keep only the pre-roll while waiting for speech.
		if drop := len(l.pcm) - int(samples(speechPreroll)); drop > 0 {
			l.pcm = append(l.pcm[:0], l.pcm[drop:]...)
			l.base += int64(drop)
		}
	}
}

// finish hands the utterance up to stream offset end to the collect.
func (l *listener) finish(end int64) {
	l.finished = true
	from := max(l.startAt-samples(speechPreroll), l.base) - l.base
	to := min(end-l.base, int64(len(l.pcm)))
	l.ended <- utterance{pcm: append([]int16(nil), l.pcm[from:to]...), at: time.Now()}
	l.pcm = nil
}

func samples(d time.Duration) int64 { return int64(d) * sampleRate / int64(time.Second) }

// recognise turns an utterance into a speech result: the phrase heard, or
// an empty utterance when nothing matched, which the flow treats as an
// invalid choice (its menu plays the invalid prompt and asks again, where
// keys still work). A recogniser failure is logged and treated the same.
func (s *session) recognise(ctx context.Context, in activities.CollectInput, u utterance) (activities.CollectResult, error) {
	lang := ""
	for _, p := range in.Prompts {
		if p.Language != "" {
			lang = p.Language
			break
		}
	}
	res, err := s.w.cfg.ASR.Recognize(ctx, u.pcm, in.Phrases, lang)
	if err != nil {
		if ctx.Err() != nil {
			return activities.CollectResult{}, ctx.Err()
		}
		s.log.Warn("speech recognition failed; taking it as no match", "node", in.NodeID, "error", err)
	}
	s.log.Info("speech", "node", in.NodeID, "phrase", res.Phrase, "text", res.Text, "confidence", res.Confidence,
		"speech_ms", len(u.pcm)*1000/sampleRate, "latency_ms", time.Since(u.at).Milliseconds())
	return activities.CollectResult{Kind: activities.InputSpeech, Utterance: res.Phrase}, nil
}

// promptAndListen plays a collect's prompts and returns the listener
// (nil when no speech is expected). With barge-in it listens from the
// start and the caller's speech stops the prompts like a key does;
// without, it listens once the prompts end.
func (w *Worker) promptAndListen(ctx context.Context, s *session, in activities.CollectInput) (*listener, error) {
	if !in.BargeIn {
		if _, err := w.say(ctx, s, in.Prompts, false); err != nil {
			return nil, err
		}
		return w.listen(s, in), nil
	}
	l := w.listen(s, in)
	_, err := w.sayUntil(ctx, s, in.Prompts, func() bool { return s.hasDigit() || l.inSpeech() })
	return l, err
}
