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
	if err := os.MkdirAll(w.cfg.RecordDir, 0o755); err != nil {
		return activities.RecordResult{}, fmt.Errorf("record: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%d.wav", in.CallID, unsafeName.ReplaceAllString(in.NodeID, "_"), time.Now().UnixMilli())
	path, err := filepath.Abs(filepath.Join(w.cfg.RecordDir, name))
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
		select {
		case <-s.signalled:
		case <-time.After(w.cfg.TemporalTimeout):
		}
	}
	return activities.RecordResult{Ref: "file://" + path, Duration: time.Duration(samples) * time.Second / sampleRate}, nil
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
		default: // the writer fell 10 s behind: drop rather than stall the reader
		}
	})
	maxDur := in.MaxDuration
	if maxDur <= 0 {
		maxDur = defaultRecordMax
	}
	limit := time.NewTimer(maxDur)
	defer limit.Stop()
	// Silence ends the recording once the caller spoke and went quiet for
	// in.Silence, or never spoke for max(in.Silence, 5s).
	var vad *audio.SilenceDetector
	if in.Silence > 0 {
		ms := int(in.Silence / time.Millisecond)
		vad = audio.NewSilenceDetector(audio.SilenceConfig{SilenceMs: ms, NoInputMs: max(ms, 5000)})
	}
	var werr error
	write := func(p []int16) (quiet bool) {
		if werr == nil {
			werr = ww.WriteSamples(p)
		}
		if vad == nil {
			return false
		}
		for _, ev := range vad.Process(p) {
			if ev.Type == audio.SpeechEnd || ev.Type == audio.NoInput {
				quiet = true
			}
		}
		return quiet
	}
loop:
	for {
		select {
		case p := <-frames:
			if write(p) {
				break loop
			}
		case <-s.digitSig:
			for {
				d, ok := s.popDigit()
				if !ok {
					break
				}
				if in.Terminator != "" && string(d) == in.Terminator {
					break loop
				}
			}
		case <-limit.C:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	untap()
	for {
		select {
		case p := <-frames:
			write(p)
			continue
		default:
		}
		break
	}
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
