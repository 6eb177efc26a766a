package audio

import "fmt"

// SilenceConfig tunes a SilenceDetector. Zero fields take the defaults.
type SilenceConfig struct {
	// ThresholdDBFS: frames louder than this count as sound (default
	// -40 dBFS; speech on a phone line is typically -30 to -15 dBFS).
	ThresholdDBFS float64
	// MinSpeechMs of consecutive sound starts speech, so clicks and pops
	// do not (default 60 ms).
	MinSpeechMs int
	// SilenceMs of consecutive silence after speech ends it (default
	// 1500 ms; the end-of-speech or end-of-recording timeout).
	SilenceMs int
	// NoInputMs without any speech since the start reports NoInput
	// (default 5000 ms; negative disables).
	NoInputMs int
}

func (c SilenceConfig) withDefaults() SilenceConfig {
	if c.ThresholdDBFS == 0 {
		c.ThresholdDBFS = -40
	}
	if c.MinSpeechMs == 0 {
		c.MinSpeechMs = 60
	}
	if c.SilenceMs == 0 {
		c.SilenceMs = 1500
	}
	if c.NoInputMs == 0 {
		c.NoInputMs = 5000
	}
	return c
}

// EventType says what a SilenceDetector noticed.
type EventType int

const (
	// SpeechStart: sound lasted MinSpeechMs; At is where it began.
	SpeechStart EventType = iota + 1
	// SpeechEnd: silence lasted SilenceMs after speech; At is where the
	// silence began (the end of the speech).
	SpeechEnd
	// NoInput: NoInputMs passed without speech; At is that moment.
	NoInput
)

func (t EventType) String() string {
	switch t {
	case SpeechStart:
		return "speech-start"
	case SpeechEnd:
		return "speech-end"
	case NoInput:
		return "no-input"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one detector transition; At is a sample offset from the first
// sample processed, a multiple of FrameSamples.
type Event struct {
	Type EventType
	At   int64
}

func (e Event) String() string { return fmt.Sprintf("%s@%d", e.Type, e.At) }

// SilenceDetector is an energy-based voice activity detector working on
// 20 ms frames of 8 kHz PCM. It reports each start and end of speech, and
// NoInput once if no speech came within NoInputMs of the start (or of the
// last Reset). It is not safe for concurrent use.
type SilenceDetector struct {
	cfg          SilenceConfig
	minSpeech    int // frames
	silenceLimit int // frames
	noInput      int // frames, < 0 disabled

	pending []int16
	frame   int64 // index of the next frame
	since   int64 // frame index of the last Reset

	speaking  bool
	heard     bool // any speech since Reset
	noInputOK bool // NoInput already reported
	loud      int  // consecutive loud frames
	loudStart int64
	quiet     int // consecutive quiet frames while speaking
	quietFrom int64
}

// NewSilenceDetector returns a detector for 8 kHz PCM.
func NewSilenceDetector(cfg SilenceConfig) *SilenceDetector {
	cfg = cfg.withDefaults()
	frames := func(ms int) int { return max(1, (ms+FrameMs-1)/FrameMs) }
	d := &SilenceDetector{
		cfg:          cfg,
		minSpeech:    frames(cfg.MinSpeechMs),
		silenceLimit: frames(cfg.SilenceMs),
		noInput:      -1,
	}
	if cfg.NoInputMs > 0 {
		d.noInput = frames(cfg.NoInputMs)
	}
	return d
}

// Config returns the configuration in use, defaults filled in.
func (d *SilenceDetector) Config() SilenceConfig { return d.cfg }

// Speaking reports whether speech is in progress.
func (d *SilenceDetector) Speaking() bool { return d.speaking }

// Reset restarts the no-input timer (for a new prompt or gather) without
// losing the stream position.
func (d *SilenceDetector) Reset() {
	d.since = d.frame
	d.heard = d.speaking
	d.noInputOK = false
}

// Process consumes samples and returns the events they complete, in order.
func (d *SilenceDetector) Process(pcm []int16) []Event {
	var out []Event
	d.pending = append(d.pending, pcm...)
	off := 0
	for ; off+FrameSamples <= len(d.pending); off += FrameSamples {
		out = d.step(LevelDBFS(d.pending[off:off+FrameSamples]) > d.cfg.ThresholdDBFS, out)
	}
	d.pending = append(d.pending[:0], d.pending[off:]...)
	return out
}

func (d *SilenceDetector) step(loud bool, out []Event) []Event {
	f := d.frame
	d.frame++
	at := func(frame int64) int64 { return frame * FrameSamples }
	if loud {
		if d.loud == 0 {
			d.loudStart = f
		}
		d.loud++
		d.quiet = 0
		if !d.speaking && d.loud >= d.minSpeech {
			d.speaking, d.heard = true, true
			out = append(out, Event{SpeechStart, at(d.loudStart)})
		}
	} else {
		d.loud = 0
		if d.speaking {
			if d.quiet == 0 {
				d.quietFrom = f
			}
			d.quiet++
			if d.quiet >= d.silenceLimit {
				d.speaking, d.quiet = false, 0
				out = append(out, Event{SpeechEnd, at(d.quietFrom)})
			}
		}
	}
	if d.noInput >= 0 && !d.heard && !d.noInputOK && !d.speaking && d.frame-d.since >= int64(d.noInput) {
		d.noInputOK = true
		out = append(out, Event{NoInput, at(d.frame)})
	}
	return out
}
