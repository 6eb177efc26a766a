package sipworker

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/wav"
)

const (
	defaultRecordMax = 2 * time.Minute
	// silenceRMS is the frame RMS below which the caller counts as silent
	// (about -44 dBFS).
	silenceRMS = 200
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (w *Worker) record(ctx context.Context, in activities.RecordInput) (activities.RecordResult, error) {
	s, err := w.session(in.CallID)
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
		if _, err := s.playPCM(ctx, beep(), nil); err != nil {
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
	// A caller hanging up ends a voicemail: the recording is still returned.
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
	silenceLimit := int(in.Silence.Seconds() * sampleRate)
	silent := 0
	var werr error
	write := func(p []int16) {
		if werr == nil {
			werr = ww.WriteSamples(p)
		}
		if rms(p) < silenceRMS {
			silent += len(p)
		} else {
			silent = 0
		}
	}
loop:
	for {
		select {
		case p := <-frames:
			write(p)
			if silenceLimit > 0 && silent >= silenceLimit {
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

func rms(p []int16) float64 {
	if len(p) == 0 {
		return 0
	}
	var sum float64
	for _, v := range p {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(p)))
}

// beep is the tone before a recording: 1 kHz for 250 ms at -10 dBFS.
func beep() []int16 {
	const n = sampleRate / 4
	out := make([]int16, n)
	amp := 32767 * math.Pow(10, -10.0/20)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*1000*float64(i)/sampleRate))
	}
	return out
}
