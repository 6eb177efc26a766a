package sipworker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

const defaultRecordMax = 2 * time.Minute

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Record records the caller into a WAV under RecordDir (activities.Channel).
func (w *Worker) Record(ctx context.Context, in activities.RecordInput) (activities.RecordResult, error) {
	s, err := w.answeredSession(ctx, in.CallID) // early media: answer first
	if err != nil {
		return activities.RecordResult{}, err
	}
	if len(in.Terminator) > 1 {
		return activities.RecordResult{}, activities.NewBadInput(fmt.Errorf("record: terminator %q is not one key", in.Terminator))
	}
	defer heartbeat(ctx)()
	actx := ctx
	ctx, cancel := s.bind(ctx)
	defer cancel()
	if _, err := w.say(ctx, s, in.Prompts, false); err != nil {
		return activities.RecordResult{}, s.result(err)
	}
	// Keys pressed during the prompt must not end the recording at once.
	s.clearDigits()
	if in.Beep {
		if _, err := s.playPCM(ctx, audio.Beep(), nil); err != nil {
			return activities.RecordResult{}, s.result(err)
		}
	}
	name := fmt.Sprintf("%s-%s-%d.wav", in.CallID, unsafeName.ReplaceAllString(in.NodeID, "_"), time.Now().UnixMilli())
	path, err := w.recordingPath(name)
	if err != nil {
		return activities.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	samples, err := s.capture(ctx, path, in)
	if err != nil {
		return activities.RecordResult{}, err
	}
	if actx.Err() != nil && !s.gone() {
		// The workflow cancelled the recording: keep the file, report the cancel.
		return activities.RecordResult{}, actx.Err()
	}
	// A caller hanging up ends a voicemail: the recording is still returned,
	// after the hangup signal, so the workflow always learns of the hangup
	// first and ends the call the same way whichever message is quicker.
	if c := s.cause.Load(); c == endCaller || c == endShutdown {
		w.awaitHangupSignal(s)
	}
	return activities.RecordResult{Ref: "file://" + path, Duration: time.Duration(samples) * time.Second / sampleRate}, nil
}

// recordingPath creates RecordDir if missing and returns the absolute path
// of the recording file called name in it.
func (w *Worker) recordingPath(name string) (string, error) {
	if err := os.MkdirAll(w.cfg.RecordDir, 0o755); err != nil {
		return "", err
	}
	return filepath.Abs(filepath.Join(w.cfg.RecordDir, name))
}

// awaitHangupSignal waits until the hangup signal of a call the caller
// ended has gone out (at most TemporalTimeout), so that an activity
// returning its result now lets the workflow learn of the hangup first.
func (w *Worker) awaitHangupSignal(s *session) {
	select {
	case <-s.signalled:
	case <-time.After(w.cfg.TemporalTimeout):
	}
}

// capture writes the caller's audio to a WAV file until MaxDuration, the
// terminator key, in.Silence of continuous silence, or ctx (hangup or
// cancel). It returns the number of samples written.
func (s *session) capture(ctx context.Context, path string, in activities.RecordInput) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("record: %w", err)
	}
	defer f.Close()
	ww, err := wav.NewWriter(f, sampleRate, 1)
	if err != nil {
		return 0, fmt.Errorf("record %s: %w", path, err)
	}
	frames := make(chan []int16, 512)
	untap := s.tap(func(p []int16) {
		select {
		case frames <- slices.Clone(p):
		default: // the writer fell 10 s behind: drop rather than stall the media clock
		}
	})
	rec := &monoRecording{ww: ww, vad: silenceDetector(in.Silence)}
	s.recordUntilEnd(ctx, frames, rec, in)
	untap()
	for {
		select {
		case p := <-frames:
			rec.write(p)
			continue
		default:
		}
		break
	}
	werr := rec.werr
	if err := ww.Close(); err != nil && werr == nil {
		werr = err
	}
	if err := f.Close(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return 0, fmt.Errorf("record %s: %w", path, werr)
	}
	return ww.Frames(), nil
}

// recordUntilEnd writes the caller's frames to rec until MaxDuration, the
// terminator key, silence, or ctx ends.
func (s *session) recordUntilEnd(ctx context.Context, frames <-chan []int16, rec *monoRecording, in activities.RecordInput) {
	maxDur := in.MaxDuration
	if maxDur <= 0 {
		maxDur = defaultRecordMax
	}
	limit := time.NewTimer(maxDur)
	defer limit.Stop()
	for {
		select {
		case p := <-frames:
			if rec.write(p) {
				return
			}
		case <-s.digitSig:
			if s.popUntilKey(in.Terminator) {
				return
			}
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// popUntilKey takes the queued key presses up to key and reports whether
// key was among them ("": never; the presses are all taken).
func (s *session) popUntilKey(key string) bool {
	for {
		d, ok := s.popDigit()
		if !ok {
			return false
		}
		if key != "" && string(d) == key {
			return true
		}
	}
}

// monoRecording is a recording being written, with the silence detection
// that may end it.
type monoRecording struct {
	ww   *wav.Writer
	vad  *audio.SilenceDetector // nil: silence does not end the recording
	werr error                  // the first write error; later frames are not written
}

// silenceDetector ends a recording once the caller spoke and went quiet for
// silence, or never spoke for max(silence, 5s); nil for silence <= 0.
func silenceDetector(silence time.Duration) *audio.SilenceDetector {
	if silence <= 0 {
		return nil
	}
	ms := int(silence / time.Millisecond)
	return audio.NewSilenceDetector(audio.SilenceConfig{SilenceMs: ms, NoInputMs: max(ms, 5000)})
}

// write appends p to the file and reports whether silence ended the
// recording.
func (r *monoRecording) write(p []int16) (quiet bool) {
	if r.werr == nil {
		r.werr = r.ww.WriteSamples(p)
	}
	if r.vad == nil {
		return false
	}
	for _, ev := range r.vad.Process(p) {
		if ev.Type == audio.SpeechEnd || ev.Type == audio.NoInput {
			quiet = true
		}
	}
	return quiet
}
